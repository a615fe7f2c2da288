import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { allocatePorts, isPortFree, PORT_RANGE } from "./ports.ts";

describe("allocatePorts", () => {
  it("returns distinct ports that are free, below the ephemeral range", async () => {
    const ports = await allocatePorts(40);
    expect(new Set(ports).size).toBe(40);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(PORT_RANGE.min);
      expect(p).toBeLessThanOrEqual(PORT_RANGE.max);
      expect(await isPortFree(p)).toBe(true);
    }
  });

  it("never returns a port that is in use, nor an excluded one", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const used = (srv.address() as { port: number }).port;
    try {
      expect(await isPortFree(used)).toBe(false);
      const exclude = await allocatePorts(5);
      const more = await allocatePorts(50, { exclude: [...exclude, used] });
      for (const p of more) {
        expect(exclude).not.toContain(p);
        expect(p).not.toBe(used);
      }
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
