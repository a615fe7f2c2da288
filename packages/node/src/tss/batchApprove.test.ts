import {
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  batchDigest,
  buildBatchHeader,
  type CommittedBlock,
  encodeBatch,
  headerToJson,
} from "@dseq/batch-submitter";
import { createNoopLogger, type Hex, hexToBytes } from "@dseq/common";
import type { SignContext } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import { batchApprove } from "./batchApprove.ts";

const chainId = 901n;
const domain = { l1ChainId: 31337, address: `0x${"44".repeat(20)}` as Hex };
const h32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const blocks: CommittedBlock[] = [1n, 2n, 3n].map((n) => ({
  number: n,
  hash: h32(100 + Number(n)),
  parentHash: h32(99 + Number(n)),
  timestamp: 1_700_000_000n + n * 2n,
  coinbase: `0x${"aa".repeat(20)}`,
  stateRoot: h32(200 + Number(n)),
  extraData: new Uint8Array([1, 2, 3]),
  transactions: [],
}));
const tip0: BatchTip = { batchIndex: 0n, batchHash: h32(0), lastBlock: 0n };

function setup(opts: { tip?: () => Promise<BatchTip> } = {}) {
  const refusals: string[] = [];
  const approve = batchApprove({
    chainId,
    domain,
    source: {
      head: async () => 3n,
      block: async (n) => blocks.find((b) => b.number === n),
    },
    tip: opts.tip ?? (async () => tip0),
    onRefusal: (r) => refusals.push(r),
    logger: createNoopLogger(),
  });
  return { approve, refusals };
}
const header = (count = 3): BatchHeader =>
  buildBatchHeader(chainId, tip0, blocks.slice(0, count), {
    kind: BatchDataKind.calldata,
    data: encodeBatch(blocks.slice(0, count), { chainId }),
  });
const ctx = (context: Record<string, unknown>) => ({ sessionId: "0x01", context }) as unknown as SignContext;
const ask = (a: ReturnType<typeof setup>["approve"], h: BatchHeader, extra: Record<string, unknown> = {}) =>
  a(hexToBytes(batchDigest(domain, h)), ctx({ kind: "batch", header: headerToJson(h), ...extra }));

describe("batchApprove (a signer rebuilds the batch from its own chain)", () => {
  it("signs a header it rebuilds byte for byte, for any cut of its committed blocks", async () => {
    const { approve, refusals } = setup();
    expect(await ask(approve, header(3))).toBe(true);
    expect(await ask(approve, header(2))).toBe(true);
    expect(refusals).toEqual([]);
  });
  it("refuses a wrong state root, block hash, data hash, range or digest, each counted", async () => {
    const { approve, refusals } = setup();
    expect(await ask(approve, { ...header(), stateRoot: h32(9) })).toBe(false);
    expect(await ask(approve, { ...header(), lastBlockHash: h32(9) })).toBe(false);
    expect(await ask(approve, { ...header(), dataHash: h32(9) })).toBe(false);
    expect(await ask(approve, { ...header(), lastBlock: 4n })).toBe(false);
    expect(await ask(approve, { ...header(), firstBlock: 2n })).toBe(false);
    const h = header();
    expect(await approve(new Uint8Array(32), ctx({ kind: "batch", header: headerToJson(h) }))).toBe(false);
    expect(refusals).toEqual([
      "state_root_mismatch",
      "block_hash_mismatch",
      "data_hash_mismatch",
      "not_committed",
      "wrong_range",
      "digest",
    ]);
  });
  it("refuses other kinds, malformed headers, a wrong inbox tip and an unreachable L1", async () => {
    const { approve, refusals } = setup();
    const h = header();
    expect(await approve(hexToBytes(batchDigest(domain, h)), ctx({ kind: "rotation" }))).toBe(false);
    expect(await approve(hexToBytes(batchDigest(domain, h)), ctx({ kind: "batch", header: { x: 1 } }))).toBe(
      false,
    );
    const moved = setup({ tip: async () => ({ ...tip0, batchIndex: 1n }) });
    expect(await ask(moved.approve, h)).toBe(false);
    const down = setup({ tip: () => Promise.reject(new Error("ECONNREFUSED")) });
    expect(await ask(down.approve, h)).toBe(false);
    expect([...refusals, ...moved.refusals, ...down.refusals]).toEqual([
      "kind",
      "bad_header",
      "wrong_index",
      "l1",
    ]);
  });
});
