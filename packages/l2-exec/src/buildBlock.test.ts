import { bytesToHex } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain, readOnlyDb, type TestAccount, transferTx } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { L2ExecErrorCode } from "./errors.ts";
import type { IncludedTx, SkippedTx } from "./execute.ts";

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

  it("tells the source each included transaction's receipt as the sealed block has it, and each skip", async () => {
    const from = t.senders[0] as TestAccount;
    const nonce = 0n; // the first test wrote nothing
    const offered = [
      transferTx(state.common, from, nonce, bob, 1n),
      transferTx(state.common, from, nonce + 5n, bob, 2n), // nonce gap: skipped
      transferTx(state.common, from, nonce + 1n, bob, 3n),
    ];
    const included: IncludedTx[] = [];
    const skipped: SkippedTx[] = [];
    const source = {
      next: async () => offered.shift(),
      included: (x: IncludedTx) => included.push(x),
      skipped: (x: SkippedTx) => skipped.push(x),
    };
    const ctx = { ...state, db: readOnlyDb(state.db), pending: new Map() };
    const parent = state.heads.latest;
    const built = await buildBlock(ctx, { txs: source, timestamp: parent.header.timestamp + 2n, coinbase });
    expect(built.block.transactions).toHaveLength(2);
    expect(skipped.map((x) => x.hash)).toEqual(built.skipped.map((x) => x.hash));
    expect(skipped).toHaveLength(1);
    expect(included.map((x) => x.index)).toEqual([0, 1]);
    expect(included.map((x) => bytesToHex(x.tx.hash()))).toEqual(
      built.block.transactions.map((x) => bytesToHex(x.hash())),
    );
    expect(included.map((x) => x.receipt)).toEqual(built.receipts);
    expect(included.map((x) => x.gasUsed)).toEqual([21_000n, 21_000n]);
    expect(included[1]?.baseFee).toBe(built.block.header.baseFeePerGas);
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
