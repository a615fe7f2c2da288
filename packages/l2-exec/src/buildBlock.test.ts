import { bytesToHex } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain, readOnlyDb, type TestAccount, transferTx } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { L2ExecErrorCode } from "./errors.ts";

const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const bob = "0x00000000000000000000000000000000000000b0" as const;

describe("buildBlock", () => {
  let t: Awaited<ReturnType<typeof openTestChain>>;
  let state: ChainState;
  beforeAll(async () => {
    t = await openTestChain();
    state = t.state;
  });
  afterAll(() => t.close());

  it("pulls a source until it stops, writes nothing and remembers the result for commit", async () => {
    const from = t.senders[0] as TestAccount;
    const offered = [
      transferTx(state.common, from, 0n, bob, 1n),
      transferTx(state.common, from, 1n, bob, 2n),
    ];
    const pulls: [bigint, number][] = [];
    const source = {
      next: async (gasLeft: bigint, bytesLeft: number) => {
        pulls.push([gasLeft, bytesLeft]);
        return offered.shift();
      },
    };
    const pending = new Map();
    const ctx = { ...state, db: readOnlyDb(state.db), pending };
    const parent = state.heads.latest;
    const built = await buildBlock(ctx, { txs: source, timestamp: parent.header.timestamp + 2n, coinbase });
    expect(built.block.transactions).toHaveLength(2);
    expect(built.skipped).toEqual([]);
    expect(pulls).toHaveLength(3);
    expect(pulls[1]?.[0]).toBe(parent.header.gasLimit - 21_000n);
    expect([...pending.keys()]).toEqual([bytesToHex(built.block.hash())]);
    expect(state.heads.latest).toBe(parent);
  });

  it("refuses a byte cap the header alone does not fit", async () => {
    const timestamp = state.heads.latest.header.timestamp + 2n;
    await expect(
      buildBlock(state, { txs: [], timestamp, coinbase, maxBlockBytes: 10 }),
    ).rejects.toMatchObject({
      code: L2ExecErrorCode.InvalidConfig,
      details: { maxBlockBytes: 10 },
    });
  });
});
