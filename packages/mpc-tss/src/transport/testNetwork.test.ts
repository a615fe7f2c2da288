import { describe, expect, it } from "vitest";
import { createPartyKey } from "../identity.ts";
import { createTestNetwork, type TestNetworkOptions } from "./testNetwork.ts";

const [a, b, c] = [1, 2, 3].map((i) => createPartyKey(new Uint8Array(32).fill(i)).id) as [
  `0x${string}`,
  `0x${string}`,
  `0x${string}`,
];

async function deliveredPattern(opts: TestNetworkOptions): Promise<number[]> {
  const net = createTestNetwork(opts);
  const ta = net.join(a);
  const tb = net.join(b);
  const got: number[] = [];
  tb.subscribe((m) => got.push(m.data[0] as number));
  for (let i = 0; i < 100; i++) ta.send(b, new Uint8Array([i]));
  await new Promise((r) => setTimeout(r, 50));
  net.close();
  return got.sort((x, y) => x - y);
}

describe("test network", () => {
  it("drops are seeded: the same seed loses the same messages, another seed others", async () => {
    const one = await deliveredPattern({ seed: 7, dropRate: 0.3 });
    const again = await deliveredPattern({ seed: 7, dropRate: 0.3 });
    const other = await deliveredPattern({ seed: 8, dropRate: 0.3 });
    expect(one).toEqual(again);
    expect(one).not.toEqual(other);
    expect(one.length).toBeGreaterThan(50);
    expect(one.length).toBeLessThan(90);
  });

  it("broadcast reaches the others with the sender identified; loopback and disconnects", async () => {
    const net = createTestNetwork({ dropRate: 0.5, seed: 3 });
    const [ta, tb, tc] = [a, b, c].map((id) => net.join(id)) as [
      ReturnType<typeof net.join>,
      ReturnType<typeof net.join>,
      ReturnType<typeof net.join>,
    ];
    const seen: string[] = [];
    for (const t of [ta, tb, tc]) t.subscribe((m) => seen.push(`${m.from}->${t.self}:${m.data[0]}`));
    for (let i = 0; i < 10; i++) ta.send(a, new Uint8Array([i])); // loopback: never dropped
    net.disconnect(c);
    tb.broadcast(new Uint8Array([99]));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.filter((s) => s.startsWith(`${a}->${a}`))).toHaveLength(10);
    expect(seen.some((s) => s === `${b}->${c}:99`)).toBe(false);
    expect(seen.some((s) => s.startsWith(`${b}->${b}`))).toBe(false);
    net.close();
  });
});
