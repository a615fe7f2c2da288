import { FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { PublishQueue, type PublishSink, type PublishThrottleOptions } from "./publishQueue.ts";

const opts: PublishThrottleOptions = {
  maxMessagesPerSecond: 10,
  maxBytesPerSecond: 1_000,
  maxQueued: 100,
  highWaterMarkBytes: 500,
  maxDrainWaitMs: 1_000,
};

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function recorder(backlogBytes = () => 0): PublishSink<string> & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: async (s) => {
      sent.push(s);
      return 1;
    },
    size: (s) => s.length,
    backlog: () => ({ bytes: backlogBytes(), drained: () => new Promise(() => undefined) }),
  };
}

describe("PublishQueue", () => {
  it("holds publishing to the message rate", async () => {
    const clock = new FakeClock(0);
    const sink = recorder();
    const q = new PublishQueue(opts, sink, clock);
    const all = Array.from({ length: 25 }, (_, i) => q.enqueue("bulk", `m${i}`));
    await flush();
    expect(sink.sent.length).toBe(10); // the full bucket
    clock.advance(500);
    await flush();
    expect(sink.sent.length).toBe(15);
    clock.advance(1_000);
    await flush();
    expect(sink.sent.length).toBe(25);
    await Promise.all(all);
    q.close();
  });

  it("holds publishing to the byte rate", async () => {
    const clock = new FakeClock(0);
    const sink = recorder();
    const q = new PublishQueue(opts, sink, clock);
    for (let i = 0; i < 4; i++) q.enqueue("bulk", "x".repeat(400)).catch(() => undefined);
    await flush();
    expect(sink.sent.length).toBe(2);
    clock.advance(400);
    await flush();
    expect(sink.sent.length).toBe(3);
    q.close();
  });

  it("sends consensus ahead of queued bulk and refuses when a lane is full", async () => {
    const clock = new FakeClock(0);
    const sink = recorder();
    const q = new PublishQueue({ ...opts, maxMessagesPerSecond: 1, maxQueued: 3 }, sink, clock);
    q.enqueue("bulk", "b0").catch(() => undefined);
    q.enqueue("bulk", "b1").catch(() => undefined);
    q.enqueue("bulk", "b2").catch(() => undefined);
    q.enqueue("bulk", "b3").catch(() => undefined);
    await expect(q.enqueue("bulk", "b4")).rejects.toMatchObject({ code: "P2P_PUBLISH_QUEUE_FULL" });
    q.enqueue("priority", "vote").catch(() => undefined);
    await flush();
    clock.advance(1_000);
    await flush();
    expect(sink.sent).toEqual(["b0", "vote"]);
    q.close();
  });

  it("waits for a full outbound buffer to drain (bounded), then goes on", async () => {
    const clock = new FakeClock(0);
    let backlog = 10_000;
    const sink = recorder(() => backlog);
    const q = new PublishQueue({ ...opts, maxDrainWaitMs: 50 }, sink, clock);
    const p = q.enqueue("priority", "v");
    await flush();
    expect(sink.sent).toEqual([]);
    expect(q.drainWaits).toBe(1);
    backlog = 0;
    await p; // the drain wait times out after 50 ms of real time
    expect(sink.sent).toEqual(["v"]);
    q.close();
  });

  it("close rejects what is queued", async () => {
    const q = new PublishQueue({ ...opts, maxMessagesPerSecond: 1 }, recorder(), new FakeClock(0));
    q.enqueue("bulk", "a").catch(() => undefined);
    const b = q.enqueue("bulk", "b");
    q.close();
    await expect(b).rejects.toMatchObject({ code: "P2P_STOPPED" });
  });
});
