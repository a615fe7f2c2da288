import { describe, expect, it } from "vitest";
import { EventBus } from "./eventBus.ts";
import { createCapturingLogger } from "./logger.ts";

type Events = { "block.committed": { height: number }; "peer.connected": string };

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("EventBus", () => {
  it("delivers typed payloads to every listener, after emit returns", async () => {
    const bus = new EventBus<Events>({ name: "test" });
    const got: number[] = [];
    bus.on("block.committed", (p) => {
      got.push(p.height);
    });
    bus.on("block.committed", (p) => {
      got.push(p.height * 10);
    });
    bus.emit("block.committed", { height: 7 });
    expect(got).toEqual([]); // the emitter did not wait on listeners
    await tick();
    expect(got).toEqual([7, 70]);
  });

  it("a throwing or rejecting listener is logged and does not stop the others", async () => {
    const { logger, lines } = createCapturingLogger();
    const bus = new EventBus<Events>({ name: "p2p", logger });
    const got: string[] = [];
    bus.on("peer.connected", () => {
      throw new Error("boom");
    });
    bus.on("peer.connected", async () => {
      throw new Error("async boom");
    });
    bus.on("peer.connected", (p) => {
      got.push(p);
    });
    expect(() => bus.emit("peer.connected", "peer-a")).not.toThrow();
    await tick();
    expect(got).toEqual(["peer-a"]);
    expect(bus.listenerErrors).toBe(2);
    const errs = lines.filter((l) => l.msg === "event listener failed");
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatchObject({ bus: "p2p", event: "peer.connected", level: "error" });
  });

  it("a slow listener does not block the emitter", async () => {
    const bus = new EventBus<Events>({ name: "test" });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowDone = false;
    bus.on("peer.connected", async () => {
      await gate;
      slowDone = true;
    });
    for (let i = 0; i < 100; i++) bus.emit("peer.connected", `p${i}`);
    await tick();
    expect(slowDone).toBe(false);
    release();
    await tick();
    expect(slowDone).toBe(true);
  });

  it("off, once and waitFor", async () => {
    const bus = new EventBus<Events>({ name: "test" });
    const got: string[] = [];
    const off = bus.on("peer.connected", (p) => {
      got.push(`on:${p}`);
    });
    bus.once("peer.connected", (p) => {
      got.push(`once:${p}`);
    });
    const next = bus.waitFor("peer.connected");
    bus.emit("peer.connected", "a");
    await tick();
    off();
    bus.emit("peer.connected", "b");
    await tick();
    expect(got).toEqual(["on:a", "once:a"]);
    await expect(next).resolves.toBe("a");
    expect(bus.listenerCount("peer.connected")).toBe(0);
  });

  it("waitFor rejects on abort", async () => {
    const bus = new EventBus<Events>({ name: "test" });
    const ac = new AbortController();
    const p = bus.waitFor("peer.connected", ac.signal);
    ac.abort(new Error("stopped"));
    await expect(p).rejects.toThrow("stopped");
    expect(bus.listenerCount("peer.connected")).toBe(0);
  });
});
