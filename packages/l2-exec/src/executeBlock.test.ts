import { bytesToHex } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain, readOnlyDb, type TestAccount, transferTx } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { L2ExecErrorCode } from "./errors.ts";
import { executeBlock } from "./executeBlock.ts";

const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const bob = "0x00000000000000000000000000000000000000b0" as const;

describe("executeBlock", () => {
  let t: Awaited<ReturnType<typeof openTestChain>>;
  let state: ChainState;
  beforeAll(async () => {
    t = await openTestChain();
    state = t.state;
  });
  afterAll(() => t.close());

  const build = async (timestampDelta: bigint) => {
    const from = t.senders[0] as TestAccount;
    const timestamp = state.heads.latest.header.timestamp + timestampDelta;
    const tx = transferTx(state.common, from, 0n, bob, 1n);
    return buildBlock({ ...state, pending: new Map() }, { txs: [tx], timestamp, coinbase });
  };

  it("re-executes a built block as valid, reading only, and remembers it", async () => {
    const built = await build(2n);
    const pending = new Map();
    const ex = await executeBlock({ ...state, db: readOnlyDb(state.db), pending }, built.block.serialize());
    expect(ex.valid).toBe(true);
    expect(ex.differences).toEqual([]);
    expect(ex.receipts).toHaveLength(1);
    expect([...pending.keys()]).toEqual([bytesToHex(built.block.hash())]);
  });

  it("lists what differs, and does not remember an invalid block", async () => {
    const built = await build(0n);
    const pending = new Map();
    const ex = await executeBlock({ ...state, pending }, built.block);
    expect(ex.valid).toBe(false);
    expect(ex.differences).toContainEqual(expect.objectContaining({ field: "timestamp" }));
    expect(pending.size).toBe(0);
  });

  it("reports a block over the byte cap without executing it", async () => {
    const built = await build(2n);
    const ex = await executeBlock({ ...state, maxBlockBytes: 100, pending: new Map() }, built.block);
    expect(ex.valid).toBe(false);
    expect(ex.differences).toEqual([
      { field: "blockBytes", expected: "<= 100", actual: String(built.block.serialize().length) },
    ]);
    expect(ex.timings.totalMs).toBe(0);
  });

  it("refuses a block whose parent is not committed, and a closed chain", async () => {
    const built = await build(2n);
    const orphan = { ...built.block, header: { ...built.block.header, parentHash: new Uint8Array(32) } };
    await expect(executeBlock(state, orphan as never)).rejects.toMatchObject({
      code: L2ExecErrorCode.UnknownBlock,
    });
    await expect(executeBlock({ ...state, closed: true }, built.block)).rejects.toMatchObject({
      code: L2ExecErrorCode.Closed,
    });
  });
});
