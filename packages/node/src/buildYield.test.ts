import { describe, expect, it } from "vitest";
import { buildYield } from "./buildYield.ts";

/** A fake thread: `now` advances by what the build runs and by what each loop turn costs. */
function thread(turnMs: () => number) {
  let t = 0;
  let turns = 0;
  return {
    deps: {
      now: () => t,
      turn: async () => {
        turns++;
        t += turnMs();
      },
    },
    run: (ms: number) => {
      t += ms;
    },
    time: () => t,
    turns: () => turns,
  };
}

/** Runs 1 ms transactions through the yield for `totalMs` of fake time; the build's share. */
async function buildShare(turnMs: number): Promise<{ share: number; turns: number }> {
  const th = thread(() => turnMs);
  const pause = buildYield(th.deps);
  let built = 0;
  while (th.time() < 10_000) {
    await pause();
    th.run(1);
    built++;
  }
  return { share: built / th.time(), turns: th.turns() };
}

describe("buildYield: the build's share of the event loop", () => {
  it("on an idle loop the build yields every 4 ms and keeps nearly all the thread", async () => {
    const r = await buildShare(0);
    expect(r.share).toBeGreaterThan(0.99);
    expect(r.turns).toBeGreaterThanOrEqual(10_000 / 5 - 1); // a turn after every 4 ms slice
  });

  it("on a busy loop (20 ms turns) the build still gets about half the thread, not a sixth", async () => {
    const r = await buildShare(20);
    // A fixed 4 ms slice would give 4 / 24 = 0.17.
    expect(r.share).toBeGreaterThan(0.45);
    expect(r.share).toBeLessThan(0.55);
  });

  it("very long turns do not stretch a slice past 25 ms (timers stay within 25 ms + a turn)", async () => {
    const r = await buildShare(200);
    expect(r.share).toBeCloseTo(25 / 225, 1);
  });
});
