import type { Hex } from "@dseq/common";
import { decodeJson, type KvStore } from "@dseq/l1-bridge-listener";
import { type DerivedTip, genesisTip } from "./checkBatch.ts";

/**
 * Layout of the derive state store (`<dataDir>/derive/state`, ADRs 0180, 0184):
 *
 *   "tip"                 the last batch derived (StoredTip JSON)
 *   "rewind"              the tip a rewind goes back to, written before the chain store is touched
 *   "b" + u64 batch index the tip after each derived batch: what a rewind can go back to
 */
export type StoredTip = DerivedTip & { genesisHash: Hex; batchSeq: number; l1BlockHash?: Hex };

const enc = new TextEncoder();
export const TIP_KEY = enc.encode("tip");
export const REWIND_KEY = enc.encode("rewind");

export function batchKey(index: bigint): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = 0x62;
  new DataView(k.buffer).setBigUint64(1, index);
  return k;
}

/**
 * Where a rewind goes (ADR 0184): undefined when `tip` is still on L1; else the newest derived
 * batch before it that is, or the genesis tip when there is none (or the history predates it).
 */
export async function findRewindTarget(
  store: KvStore,
  tip: StoredTip,
  onL1: (t: StoredTip) => boolean,
): Promise<StoredTip | undefined> {
  if (tip.batchIndex === 0n || onL1(tip)) return undefined;
  for (let i = tip.batchIndex - 1n; i > 0n; i--) {
    const raw = await store.get(batchKey(i));
    if (!raw) break;
    const t = decodeJson<StoredTip>(raw);
    if (onL1(t)) return t;
  }
  return { ...genesisTip(tip.genesisHash), genesisHash: tip.genesisHash, batchSeq: -1 };
}
