import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { commitBlock } from "./commitBlock.ts";
import { L2ExecErrorCode } from "./errors.ts";
import { getLogs } from "./getLogs.ts";
import { Prefix } from "./store.ts";

const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;

describe("getLogs", () => {
  let t: Awaited<ReturnType<typeof openTestChain>>;
  let state: ChainState;
  beforeAll(async () => {
    t = await openTestChain();
    state = t.state;
    for (let i = 0; i < 3; i++) {
      const built = await buildBlock(state, {
        txs: [],
        timestamp: state.heads.latest.header.timestamp + 2n,
        coinbase,
      });
      await commitBlock(state, built.block);
    }
  });
  afterAll(() => t.close());

  it("bounds the range and names unknown blocks", async () => {
    expect(await getLogs(state, { fromBlock: 0n, toBlock: "latest" }, { maxBlocks: 4 })).toEqual([]);
    await expect(
      getLogs(state, { fromBlock: 0n, toBlock: "latest" }, { maxBlocks: 3 }),
    ).rejects.toMatchObject({
      code: L2ExecErrorCode.InvalidConfig,
    });
    await expect(getLogs(state, { blockHash: `0x${"11".repeat(32)}` })).rejects.toMatchObject({
      code: L2ExecErrorCode.UnknownBlock,
    });
  });

  it("reads no receipts of a block whose bloom cannot match", async () => {
    const reads: number[] = [];
    const db = state.db;
    const counting = Object.create(db, {
      get: {
        value: (k: Uint8Array) => {
          reads.push(k[0] as number);
          return db.get(k);
        },
      },
    });
    const logs = await getLogs(
      { ...state, db: counting },
      { fromBlock: 1n, toBlock: 3n, address: "0x00000000000000000000000000000000000000aa" },
    );
    expect(logs).toEqual([]);
    expect(reads.filter((p) => p === Prefix.Bloom)).toHaveLength(3);
    expect(reads).not.toContain(Prefix.Receipts);
  });
});
