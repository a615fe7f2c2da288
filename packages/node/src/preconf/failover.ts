import { bytesToHex, type Hex } from "@dseq/common";
import type { TypedTransaction } from "@ethereumjs/tx";

/**
 * The transactions a proposer offers when it builds on a preconfirmed prefix (ADR 0173): the
 * prefix first, in its order (each decoded; one that does not decode is left out, it could
 * never have had a receipt), then the pool's, without the prefix's, up to `max` in all.
 */
export function txsOnPrefix(
  prefix: readonly Uint8Array[],
  pool: readonly TypedTransaction[],
  decode: (raw: Uint8Array) => TypedTransaction,
  max: number,
): TypedTransaction[] {
  const out: TypedTransaction[] = [];
  const seen = new Set<Hex>();
  for (const raw of prefix) {
    if (out.length >= max) return out;
    let tx: TypedTransaction;
    try {
      tx = decode(raw);
    } catch {
      continue;
    }
    const h = bytesToHex(tx.hash());
    if (seen.has(h)) continue;
    seen.add(h);
    out.push(tx);
  }
  for (const tx of pool) {
    if (out.length >= max) break;
    if (!seen.has(bytesToHex(tx.hash()))) out.push(tx);
  }
  return out;
}
