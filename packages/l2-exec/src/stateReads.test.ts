import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain, type TestAccount, transferTx } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { getAccount, stateAt } from "./stateReads.ts";

const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const bob = "0x00000000000000000000000000000000000000b0" as const;

describe("stateReads", () => {
  let t: Awaited<ReturnType<typeof openTestChain>>;
  let state: ChainState;
  beforeAll(async () => {
    t = await openTestChain();
    state = t.state;
  });
  afterAll(() => t.close());

  it("plain reads of the latest head share one view; other reads get their own", async () => {
    const a = await stateAt(state, "latest", true);
    const b = await stateAt(state, undefined, true);
    const c = await stateAt(state, "latest");
    expect(b.view).toBe(a.view);
    expect(c.view).not.toBe(a.view);
    expect(state.headView?.view).toBe(a.view);
  });

  it("reads a pending state's post-state without committing it", async () => {
    const from = t.senders[2] as TestAccount;
    const built = await buildBlock(state, {
      txs: [transferTx(state.common, from, 0n, bob, 7n)],
      timestamp: state.heads.latest.header.timestamp + 2n,
      coinbase,
    });
    expect((await getAccount(state, bob, built.pending))?.balance).toBe(7n);
    expect(await getAccount(state, bob)).toBeUndefined();
  });
});
