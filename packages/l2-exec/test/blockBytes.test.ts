import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TypedTransaction } from "@ethereumjs/tx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockOverheadBytes, txBytesInBlock } from "../src/blockBytes.ts";
import {
  type BuildTxSource,
  type Chain,
  createChain,
  DEFAULT_MAX_BLOCK_BYTES,
  L1EntryKind,
  L2ExecErrorCode,
  SkipReason,
} from "../src/index.ts";
import {
  ETH,
  fillerAddress,
  type TestAccount,
  testAccounts,
  testChainConfig,
  transferTx,
} from "./fixtures.ts";

const BIG = 30;
const senders = testAccounts(BIG + 1, "block-bytes");
// Gas is not what stops these blocks: 30 txs of 130,000 non-zero calldata bytes need ~160M.
const config = testChainConfig({ senders, gasLimit: 400_000_000n });
const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const acct = (i: number) => senders[i] as TestAccount;
// Just under the pool's 128 KiB maxTxSize once signed and encoded.
const CALLDATA = 130_000;

describe("block byte cap (maxBlockBytes)", () => {
  const dirs: string[] = [];
  let chain: Chain;
  let big: TypedTransaction[];
  let small: TypedTransaction;
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), "l2exec-bytes-"));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    chain = await createChain({ dataDir: await newDir(), chainConfig: config });
    const common = chain.head().common;
    const data = new Uint8Array(CALLDATA).map((_, i) => (i % 251) + 1);
    big = Array.from({ length: BIG }, (_, i) =>
      transferTx(common, acct(i), 0n, fillerAddress(i), 1n, { gasLimit: 6_000_000n, data }),
    );
    small = transferTx(common, acct(BIG), 0n, fillerAddress(99), 1n);
  });
  afterAll(async () => {
    await chain?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("a builder given 30 txs of ~128 KiB seals a block under the cap and skips the rest", async () => {
    expect(big[0]?.serialize().length).toBeLessThanOrEqual(128 * 1024);
    const built = await chain.buildBlock({
      txs: [...big, small],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
    });
    const size = built.block.serialize().length;
    expect(size).toBeLessThanOrEqual(DEFAULT_MAX_BLOCK_BYTES);
    const n = built.block.transactions.length;
    // as many big ones as fit (16 of ~130 KB in 2 MiB), then the small one after the skips
    expect(n).toBe(17);
    expect(built.block.transactions.at(-1)?.hash()).toEqual(small.hash());
    expect(built.skipped.length).toBe(BIG - 16);
    expect(new Set(built.skipped.map((s) => s.reason))).toEqual(new Set([SkipReason.BlockBytes]));
    expect(built.skipped.map((s) => s.index)).toEqual(Array.from({ length: BIG - 16 }, (_, i) => 16 + i));
    // the estimate before execution is an upper bound, and a tight one
    const txBytes = built.block.transactions.reduce((a, t) => a + txBytesInBlock(t.type, t.serialize()), 0);
    const overhead = blockOverheadBytes(built.block);
    expect(size - txBytes).toBeLessThanOrEqual(overhead);
    expect(overhead - (size - txBytes)).toBeLessThan(40);
    // the block is valid for everyone else
    const ex = await chain.executeBlock(built.block.serialize());
    expect(ex.differences).toEqual([]);
    expect(ex.valid).toBe(true);
  });

  it("the pulled source path keeps the same budget and tells the source what is left", async () => {
    const offered = [...big, small];
    const left: number[] = [];
    const source: BuildTxSource = {
      async next(_gasLeft, bytesLeft) {
        left.push(bytesLeft);
        return offered.shift();
      },
    };
    const built = await chain.buildBlock({
      txs: source,
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
    });
    expect(built.block.serialize().length).toBeLessThanOrEqual(DEFAULT_MAX_BLOCK_BYTES);
    expect(built.block.transactions.length).toBe(17);
    expect(built.skipped.every((s) => s.reason === SkipReason.BlockBytes)).toBe(true);
    expect(built.skipped.length).toBe(BIG - 16);
    expect(left[0]).toBeGreaterThan(DEFAULT_MAX_BLOCK_BYTES - 1024);
    for (let i = 1; i < left.length; i++) expect(left[i]).toBeLessThanOrEqual(left[i - 1] as number);
    expect(left.at(-1)).toBeLessThan(130_000);
  });

  it("a tx the pool admits (up to cap - 1,024 bytes, txpool's BLOCK_HEADER_ALLOWANCE) fits an empty block", async () => {
    const cap = 200_000;
    const target = cap - 1024;
    const common = chain.head().common;
    let len = target - 200;
    let tx = transferTx(common, acct(0), 0n, fillerAddress(1), 1n, {
      gasLimit: 9_000_000n,
      data: new Uint8Array(len),
    });
    for (let i = 0; i < 8; i++) {
      len += target - tx.serialize().length;
      tx = transferTx(common, acct(0), 0n, fillerAddress(1), 1n, {
        gasLimit: 9_000_000n,
        data: new Uint8Array(len),
      });
    }
    expect(tx.serialize().length).toBeLessThanOrEqual(target);
    expect(tx.serialize().length).toBeGreaterThan(target - 4);
    const built = await chain.buildBlock({
      txs: [tx],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
      extraData: new Uint8Array(32).fill(0xff),
      maxBlockBytes: cap,
    });
    expect(built.skipped).toEqual([]);
    expect(built.block.transactions.length).toBe(1);
    expect(built.block.serialize().length).toBeLessThanOrEqual(cap);
  });

  it("a per-build cap below the chain's is honoured; above it, the chain's wins", async () => {
    const timestamp = chain.head().header.timestamp + 2n;
    const lower = await chain.buildBlock({ txs: big, timestamp, coinbase, maxBlockBytes: 300_000 });
    expect(lower.block.transactions.length).toBe(2);
    expect(lower.block.serialize().length).toBeLessThanOrEqual(300_000);
    const higher = await chain.buildBlock({ txs: big, timestamp, coinbase, maxBlockBytes: 8 * 1024 * 1024 });
    expect(higher.block.transactions.length).toBe(16);
  });

  it("withdrawals (L1 entries) count against the budget", async () => {
    const l1Entries = Array.from({ length: 2_000 }, (_, i) => ({
      index: BigInt(i),
      kind: L1EntryKind.Deposit,
      to: fillerAddress(i),
      amount: ETH,
    }));
    const built = await chain.buildBlock({
      txs: big,
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
      l1Entries,
    });
    expect(built.block.serialize().length).toBeLessThanOrEqual(DEFAULT_MAX_BLOCK_BYTES);
    expect(built.block.transactions.length).toBeLessThan(16);
    await expect(
      chain.buildBlock({
        txs: [],
        timestamp: chain.head().header.timestamp + 2n,
        coinbase,
        l1Entries,
        maxBlockBytes: 10_000,
      }),
    ).rejects.toMatchObject({ code: L2ExecErrorCode.InvalidConfig });
  });

  it("executeBlock reports a block over the cap as invalid, and commit refuses it", async () => {
    // A proposer with a larger cap (a hostile or misconfigured one) on the same genesis.
    const loose = await createChain({
      dataDir: await newDir(),
      chainConfig: config,
      maxBlockBytes: 8 * 1024 * 1024,
    });
    const built = await loose.buildBlock({
      txs: big,
      timestamp: loose.head().header.timestamp + 2n,
      coinbase,
    });
    await loose.close();
    expect(built.block.transactions.length).toBe(BIG);
    const rlp = built.block.serialize();
    expect(rlp.length).toBeGreaterThan(DEFAULT_MAX_BLOCK_BYTES);

    for (const input of [rlp, chain.decodeBlock(rlp)]) {
      const ex = await chain.executeBlock(input);
      expect(ex.valid).toBe(false);
      expect(ex.differences).toEqual([
        { field: "blockBytes", expected: `<= ${DEFAULT_MAX_BLOCK_BYTES}`, actual: String(rlp.length) },
      ]);
    }
    await expect(chain.commit(chain.decodeBlock(rlp))).rejects.toMatchObject({
      code: L2ExecErrorCode.InvalidBlock,
    });
    expect(chain.head().header.number).toBe(0n);
  });

  it("maxBlockBytes must be a positive integer", async () => {
    await expect(
      createChain({ dataDir: await newDir(), chainConfig: config, maxBlockBytes: 0 }),
    ).rejects.toMatchObject({ code: L2ExecErrorCode.InvalidConfig });
  });
});
