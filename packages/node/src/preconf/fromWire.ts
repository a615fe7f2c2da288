import { bytesToHex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { decodeFragment, type SignedFragment } from "../blockStream.ts";
import type { PreconfFragment } from "./store.ts";

/**
 * A fragment off the proposal topic as the preconf store keeps it: decoded and authenticated
 * (throws like decodeFragment on anything malformed), its transactions named by hash
 * (keccak256 of the raw transaction, which is the transaction hash for every type). Fragments
 * are streamed by the round-0 proposer only (ADR 0092), so `round` is 0 unless told.
 */
export function preconfFromWire(raw: Uint8Array, chainId: bigint, round = 0): PreconfFragment {
  return preconfFromSigned(decodeFragment(raw, chainId), raw, round);
}

/** The same, for a fragment already decoded from `raw`. */
export function preconfFromSigned(f: SignedFragment, raw: Uint8Array, round = 0): PreconfFragment {
  return {
    height: f.height,
    round,
    seq: f.seq,
    last: f.last,
    parentHash: f.parentHash,
    timestamp: f.timestamp,
    signer: f.signer,
    txHashes: f.txs.map((t) => bytesToHex(keccak256(t))),
    txs: f.txs,
    raw,
  };
}
