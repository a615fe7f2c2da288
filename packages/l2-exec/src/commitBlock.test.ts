import { bytesToHex, equalsBytes } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestChain, type TestAccount, transferTx } from "../test/fixtures.ts";
import { buildBlock } from "./buildBlock.ts";
import type { ChainState } from "./chainState.ts";
import { commitBlock } from "./commitBlock.ts";
import { L2ExecErrorCode } from "./errors.ts";
import { certificateKey, headKey } from "./store.ts";

const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const bob = "0x00000000000000000000000000000000000000b0" as const;

describe("commitBlock", () => {
  let t: Awaited<ReturnType<typeof openTestChain>>;
  let state: ChainState;
  beforeAll(async () => {
    t = await openTestChain();
    state = t.state;
  });
  afterAll(() => t.close());

  it("writes one batch, with the ctx's sync flag, that moves every head asked for", async () => {
    const from = t.senders[1] as TestAccount;
    const timestamp = state.heads.latest.header.timestamp + 2n;
    const built = await buildBlock(state, {
      txs: [transferTx(state.common, from, 0n, bob, 1n)],
      timestamp,
      coinbase,
    });
    const batches: { ops: { key: Uint8Array }[]; sync: boolean | undefined }[] = [];
    const db = state.db;
    const recording = Object.create(db, {
      batch: {
        value: (ops: { key: Uint8Array }[], o?: { sync?: boolean }) => {
          batches.push({ ops, sync: o?.sync });
          return db.batch(ops as never, o ?? {});
        },
      },
    });
    const committed: unknown[] = [];
    state.events.on("chain.committed", (e) => {
      committed.push(e);
    });
    const cert = new Uint8Array([1, 2, 3]);
    await commitBlock({ ...state, db: recording, syncWrites: true }, built.block, {
      commitCertificate: cert,
      finalized: true,
    });
    expect(batches).toHaveLength(1);
    expect(batches[0]?.sync).toBe(true);
    const keys = batches[0]?.ops.map((o) => bytesToHex(o.key)) ?? [];
    for (const k of [headKey("latest"), headKey("finalized"), certificateKey(built.block.header.number)])
      expect(keys).toContain(bytesToHex(k));
    expect(keys).not.toContain(bytesToHex(headKey("safe")));
    expect(state.heads.latest).toBe(built.block);
    expect(state.heads.finalized).toBe(built.block);
    expect(state.pending.size).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(committed).toMatchObject([{ number: built.block.header.number, txCount: 1 }]);
  });

  it("refuses a block that is not a child of the latest head", async () => {
    const parent = state.heads.latest;
    const built = await buildBlock(state, { txs: [], timestamp: parent.header.timestamp + 2n, coinbase });
    await commitBlock(state, built.block);
    const sibling = await buildBlock(state, {
      parent,
      txs: [],
      timestamp: parent.header.timestamp + 3n,
      coinbase,
    });
    await expect(commitBlock(state, sibling.block)).rejects.toMatchObject({ code: L2ExecErrorCode.NotChild });
    expect(equalsBytes(state.heads.latest.hash(), built.block.hash())).toBe(true);
  });
});
