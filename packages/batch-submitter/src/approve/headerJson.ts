import { BatchDataKind, type BatchHeader } from "../codec/header.ts";

/** A batch header as JSON values (what a signing request's context carries). */
export type BatchHeaderJson = Record<keyof BatchHeader, string | number>;

const HASH = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^(0|[1-9][0-9]{0,19})$/;

export function headerToJson(h: BatchHeader): BatchHeaderJson {
  return {
    chainId: h.chainId.toString(),
    batchIndex: h.batchIndex.toString(),
    prevBatchHash: h.prevBatchHash,
    firstBlock: h.firstBlock.toString(),
    lastBlock: h.lastBlock.toString(),
    lastBlockHash: h.lastBlockHash,
    stateRoot: h.stateRoot,
    dataKind: h.dataKind,
    dataHash: h.dataHash,
  };
}

/** Strict: every field present, nothing else, decimal integers and 32-byte hashes; else undefined. */
export function headerFromJson(v: unknown): BatchHeader | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(",");
  if (
    keys !== "batchIndex,chainId,dataHash,dataKind,firstBlock,lastBlock,lastBlockHash,prevBatchHash,stateRoot"
  )
    return undefined;
  const uint = (x: unknown) => (typeof x === "string" && UINT.test(x) ? BigInt(x) : undefined);
  const hash = (x: unknown) =>
    typeof x === "string" && HASH.test(x) ? (x.toLowerCase() as `0x${string}`) : undefined;
  const [chainId, batchIndex, firstBlock, lastBlock] = [
    o.chainId,
    o.batchIndex,
    o.firstBlock,
    o.lastBlock,
  ].map(uint);
  const [prevBatchHash, lastBlockHash, stateRoot, dataHash] = [
    o.prevBatchHash,
    o.lastBlockHash,
    o.stateRoot,
    o.dataHash,
  ].map(hash);
  const dataKind =
    o.dataKind === BatchDataKind.calldata || o.dataKind === BatchDataKind.blobs ? o.dataKind : undefined;
  if (
    chainId === undefined ||
    batchIndex === undefined ||
    firstBlock === undefined ||
    lastBlock === undefined ||
    !prevBatchHash ||
    !lastBlockHash ||
    !stateRoot ||
    !dataHash ||
    dataKind === undefined
  )
    return undefined;
  return {
    chainId,
    batchIndex,
    prevBatchHash,
    firstBlock,
    lastBlock,
    lastBlockHash,
    stateRoot,
    dataKind,
    dataHash,
  };
}
