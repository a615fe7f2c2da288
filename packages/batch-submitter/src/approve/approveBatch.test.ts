import { keccak256, toHex, zeroHash } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBlocks } from "../../test/fixtures.ts";
import { buildBlobSidecar } from "../codec/blobs.ts";
import { encodeBatch } from "../codec/encodeBatch.ts";
import {
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  blobHashesDigest,
  buildBatchHeader,
} from "../codec/header.ts";
import type { CommittedBlock } from "../codec/types.ts";
import { approveBatch, type OwnChain, RefusalReason, type SignRequest } from "./approveBatch.ts";

const CHAIN = 901n;
const tip: BatchTip = { batchIndex: 3n, batchHash: keccak256(toHex("batch 3")), lastBlock: 40n };
let blocks: CommittedBlock[];
let req: SignRequest;
let own: OwnChain;

beforeAll(async () => {
  blocks = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 5, txsPerBlock: 4, firstBlock: 41n });
  const data = encodeBatch(blocks, { chainId: CHAIN });
  req = { header: buildBatchHeader(CHAIN, tip, blocks, { kind: BatchDataKind.calldata, data }), data };
  own = { chainId: CHAIN, tip, head: 50n, blocks };
});

const withHeader = (over: Partial<BatchHeader>): SignRequest => ({
  ...req,
  header: { ...req.header, ...over },
});
const reason = (r: SignRequest, o: OwnChain = own) => {
  const a = approveBatch(r, o);
  return a.ok ? "ok" : a.reason;
};

describe("approveBatch", () => {
  it("approves the header it would have built itself, calldata and blobs", () => {
    expect(approveBatch(req, own)).toEqual({ ok: true });
    const s = buildBlobSidecar(req.data);
    const blob = withHeader({ dataKind: BatchDataKind.blobs, dataHash: blobHashesDigest(s.versionedHashes) });
    expect(reason(blob)).toBe("ok");
  });

  it("refuses each header field that differs from its own chain, with the reason", () => {
    expect(reason(withHeader({ chainId: 902n }))).toBe(RefusalReason.WrongChain);
    expect(reason(withHeader({ batchIndex: 5n }))).toBe(RefusalReason.WrongIndex);
    expect(reason(withHeader({ prevBatchHash: zeroHash }))).toBe(RefusalReason.WrongPrevHash);
    expect(reason(withHeader({ firstBlock: 42n }))).toBe(RefusalReason.WrongRange);
    expect(reason(withHeader({ lastBlockHash: zeroHash }))).toBe(RefusalReason.BlockHashMismatch);
    expect(reason(withHeader({ stateRoot: zeroHash }))).toBe(RefusalReason.StateRootMismatch);
    expect(reason(withHeader({ dataHash: zeroHash }))).toBe(RefusalReason.DataHashMismatch);
    expect(reason(withHeader({ dataKind: 7 as never }))).toBe(RefusalReason.WrongDataKind);
    expect(reason(req, { ...own, head: 44n })).toBe(RefusalReason.NotCommitted);
    expect(reason(req, { ...own, blocks: blocks.slice(0, 4) })).toBe(RefusalReason.NotCommitted);
  });

  it("refuses data that hashes right but is not its own blocks (a dropped tx, bad bytes)", async () => {
    const dropped = blocks.map((b, i) => (i === 2 ? { ...b, transactions: b.transactions.slice(1) } : b));
    const data = encodeBatch(dropped, { chainId: CHAIN });
    const header = buildBatchHeader(CHAIN, tip, blocks, { kind: BatchDataKind.calldata, data });
    const a = approveBatch({ header, data }, own);
    expect(a).toMatchObject({ ok: false, reason: RefusalReason.DataMismatch });
    expect(!a.ok && a.detail).toMatch(/block 43: tx count/);
    const junk = Uint8Array.from([2, 1, 2, 3]);
    const h2 = buildBatchHeader(CHAIN, tip, blocks, { kind: BatchDataKind.calldata, data: junk });
    expect(reason({ header: h2, data: junk })).toBe(RefusalReason.BadData);
  });
});
