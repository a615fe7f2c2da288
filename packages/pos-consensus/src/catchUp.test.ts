import { createMetrics, createNoopLogger, FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  coreConfig,
  makeBlock,
  makeValidators,
  roundRobin,
} from "../test/fixtures.ts";
import { CatchUp } from "./catchUp.ts";
import type { BlockFetcher } from "./consensusApp.ts";
import { type ConsensusInput, createHeightState } from "./consensusCore.ts";
import { createDriverMetrics } from "./driverMetrics.ts";
import { SeenSet } from "./inputBuffer.ts";
import { verifySignature } from "./signer.ts";

const tv = makeValidators(4);
const B = makeBlock("decided");
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(answer: BlockFetcher["fetchCommitted"]) {
  const clock = new FakeClock(0);
  const pushed: ConsensusInput[] = [];
  const penalized: [string, string][] = [];
  const retries: number[] = [];
  const state = createHeightState(coreConfig(null), 3, roundRobin(tv.set, 3));
  const catchUp = new CatchUp({
    clock,
    fetcher: {
      fetchBlock: async () => undefined,
      fetchCommitted: answer,
      penalize: (source, reason) => penalized.push([source, reason]),
    },
    chainId: CHAIN_ID,
    verify: verifySignature,
    seen: new SeenSet({ maxKeys: 100 }),
    metrics: createDriverMetrics(createMetrics()),
    log: createNoopLogger(),
    signal: new AbortController().signal,
    state: () => state,
    halted: () => false,
    task: (fn) => void fn(),
    later: (_fn, _height, attempt) => retries.push(attempt),
    pushInternal: (input) => pushed.push(input),
  });
  return { clock, catchUp, pushed, penalized, retries };
}

describe("CatchUp", () => {
  it("fetches after the delay; a verified answer becomes a certificate and a block input", async () => {
    const certificate = certificateOf(tv, [0, 1, 2], 3, 0, B.hash);
    let asked = 0;
    const { clock, catchUp, pushed } = setup(async () => {
      asked++;
      return { block: B, certificate };
    });
    catchUp.schedule(100);
    catchUp.schedule(0); // one attempt at a time
    clock.advance(99);
    expect(asked).toBe(0);
    clock.advance(1);
    await flush();
    expect(asked).toBe(1);
    expect(pushed).toEqual([
      { type: "certificate", certificate },
      { type: "block", height: 3, block: B },
    ]);
  });

  it("a bad answer is penalized and retried with backoff, nothing reaches the loop", async () => {
    const wrong = certificateOf(tv, [0, 1, 2], 3, 0, makeBlock("other").hash);
    const { clock, catchUp, pushed, penalized, retries } = setup(async () => ({
      block: B,
      certificate: wrong,
      source: "peerA",
    }));
    catchUp.schedule(0);
    clock.advance(0);
    await flush();
    expect(penalized).toEqual([["peerA", "block is not the certified one"]]);
    expect(retries).toEqual([0]);
    expect(pushed).toEqual([]);
  });

  it("cancel drops a scheduled attempt", async () => {
    let asked = 0;
    const { clock, catchUp } = setup(async () => {
      asked++;
      return undefined;
    });
    catchUp.schedule(10);
    catchUp.cancel();
    clock.advance(10);
    await flush();
    expect(asked).toBe(0);
  });
});
