import { describe, expect, it } from "vitest";
import { FakeClock, realClock } from "./clock.ts";

describe("FakeClock", () => {
  it("fires timers in due order, each at its own time", () => {
    const c = new FakeClock(1000);
    const fired: [string, number][] = [];
    c.setTimeout(() => fired.push(["b", c.now()]), 200);
    c.setTimeout(() => fired.push(["a", c.now()]), 100);
    c.setTimeout(() => fired.push(["a2", c.now()]), 100);
    const cancel = c.setTimeout(() => fired.push(["x", c.now()]), 150);
    cancel();
    c.advance(150);
    expect(fired).toEqual([
      ["a", 1100],
      ["a2", 1100],
    ]);
    c.advance(100);
    expect(fired.at(-1)).toEqual(["b", 1200]);
    expect(c.now()).toBe(1250);
    expect(c.pending).toBe(0);
  });

  it("timers scheduled by timers fire within the same advance when due", () => {
    const c = new FakeClock();
    const fired: number[] = [];
    c.setTimeout(() => {
      fired.push(c.now());
      c.setTimeout(() => fired.push(c.now()), 10);
    }, 10);
    c.advance(25);
    expect(fired).toEqual([10, 20]);
  });

  it("sleep resolves on advance and rejects on abort", async () => {
    const c = new FakeClock();
    const p = c.sleep(50);
    await c.advanceAsync(50);
    await expect(p).resolves.toBeUndefined();
    const ac = new AbortController();
    const q = c.sleep(50, ac.signal);
    ac.abort(new Error("cancelled"));
    await expect(q).rejects.toThrow("cancelled");
    expect(c.pending).toBe(0);
  });
});

describe("realClock", () => {
  it("sleeps for real", async () => {
    const t0 = realClock.now();
    await realClock.sleep(20);
    expect(realClock.now() - t0).toBeGreaterThanOrEqual(15);
  });
});
