import { bytesToHex, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";

/**
 * The preconfirmation store (ADR 0170): the signed fragments of the round-0 proposer of each
 * (height, round), in `seq` order, bounded by bytes. Pure: it is told fragments and answers
 * questions; the node feeds it from the proposal topic and reads it for the RPC, the prevote
 * check (ADR 0172) and failover (ADR 0173).
 *
 * A preconfirmation of a transaction is the proposer's signed fragment containing it plus its
 * position (height, round, seq, index in the fragment, position in the block).
 */

/** One signed fragment as the store keeps it. */
export type PreconfFragment = {
  height: number;
  round: number;
  seq: number;
  last: boolean;
  parentHash: Hex;
  timestamp: bigint;
  signer: Hex;
  /** Hashes of the fragment's transactions, in order. */
  txHashes: Hex[];
  /** The raw transactions (same order), for a failover proposer to rebuild them (ADR 0173). */
  txs: Uint8Array[];
  /** The fragment's signed wire bytes (the evidence if it is contradicted). */
  raw: Uint8Array;
};

/** Two different fragments signed by one proposer for the same (height, round, seq). */
export type FragmentEvidence = {
  kind: "fragment-equivocation";
  height: number;
  round: number;
  seq: number;
  signer: Hex;
  first: Uint8Array;
  second: Uint8Array;
};

export type AddResult =
  | { kind: "new"; positions: TxPosition[] }
  | { kind: "duplicate" }
  | { kind: "equivocation"; evidence: FragmentEvidence }
  | { kind: "refused"; reason: string };

/** Where a preconfirmed transaction sits. */
export type TxPosition = {
  txHash: Hex;
  height: number;
  round: number;
  seq: number;
  /** Index inside its fragment. */
  index: number;
  /** Index in the block; known once every earlier fragment is in (undefined before). */
  position: number | undefined;
};

/** The contiguous run of fragments from seq 0: what the proposer has promised, in order. */
export type PreconfPrefix = {
  height: number;
  round: number;
  signer: Hex;
  parentHash: Hex;
  timestamp: bigint;
  /** Fragments 0..fragments-1 are all in. */
  fragments: number;
  /** The fragment marked last is among them. */
  sealed: boolean;
  txHashes: Hex[];
  /** The raw transactions of the prefix, in order. */
  txs: Uint8Array[];
};

export type PreconfStoreOptions = {
  /** All fragments kept, wire bytes; the oldest heights go first past it. */
  maxBytes: number;
  /** Evidence records kept (the oldest go first). */
  maxEvidence: number;
};

export const defaultPreconfStoreOptions: PreconfStoreOptions = {
  maxBytes: 32 * 1024 * 1024,
  maxEvidence: 256,
};

export type PreconfStore = {
  add(f: PreconfFragment): AddResult;
  prefix(height: number, round: number): PreconfPrefix | undefined;
  /** The longest prefix of any round of `height` (failover builds on it, ADR 0173). */
  longestPrefix(height: number): PreconfPrefix | undefined;
  position(txHash: Hex): TxPosition | undefined;
  evidence(): readonly FragmentEvidence[];
  /** Drops every height at or below `height` (committed). */
  prune(height: number): void;
  readonly bytes: number;
};

type Slot = {
  height: number;
  round: number;
  signer: Hex;
  bySeq: Map<number, PreconfFragment & { digest: Hex }>;
  bytes: number;
};

const key = (height: number, round: number): string => `${height}/${round}`;

export function createPreconfStore(opts: PreconfStoreOptions = defaultPreconfStoreOptions): PreconfStore {
  const slots = new Map<string, Slot>();
  const where = new Map<Hex, { height: number; round: number; seq: number; index: number }>();
  const found: FragmentEvidence[] = [];
  let bytes = 0;

  const drop = (k: string): void => {
    const s = slots.get(k);
    if (!s) return;
    for (const f of s.bySeq.values())
      for (const h of f.txHashes) {
        const w = where.get(h);
        if (w && w.height === s.height && w.round === s.round) where.delete(h);
      }
    bytes -= s.bytes;
    slots.delete(k);
  };

  /** Evicts the lowest heights (never `keep`) until `need` more bytes fit. */
  const makeRoom = (need: number, keep: string): boolean => {
    while (bytes + need > opts.maxBytes) {
      let oldest: Slot | undefined;
      for (const [k, s] of slots) {
        if (k === keep) continue;
        if (!oldest || s.height < oldest.height || (s.height === oldest.height && s.round < oldest.round))
          oldest = s;
      }
      if (!oldest) return false;
      drop(key(oldest.height, oldest.round));
    }
    return true;
  };

  const prefix = (height: number, round: number): PreconfPrefix | undefined => {
    const s = slots.get(key(height, round));
    const first = s?.bySeq.get(0);
    if (!s || !first) return undefined;
    const txHashes: Hex[] = [];
    const txs: Uint8Array[] = [];
    let n = 0;
    let sealed = false;
    for (;;) {
      const f = s.bySeq.get(n);
      if (!f) break;
      txHashes.push(...f.txHashes);
      txs.push(...f.txs);
      n++;
      if (f.last) {
        sealed = true;
        break;
      }
    }
    return {
      height,
      round,
      signer: s.signer,
      parentHash: first.parentHash,
      timestamp: first.timestamp,
      fragments: n,
      sealed,
      txHashes,
      txs,
    };
  };

  const position = (txHash: Hex): TxPosition | undefined => {
    const w = where.get(txHash);
    if (!w) return undefined;
    const s = slots.get(key(w.height, w.round));
    if (!s) return undefined;
    let before = 0;
    let known = true;
    for (let q = 0; q < w.seq; q++) {
      const f = s.bySeq.get(q);
      if (!f) {
        known = false;
        break;
      }
      before += f.txHashes.length;
    }
    return { txHash, ...w, position: known ? before + w.index : undefined };
  };

  return {
    add(f) {
      if (!Number.isSafeInteger(f.height) || f.height < 1) return { kind: "refused", reason: "bad height" };
      if (!Number.isSafeInteger(f.round) || f.round < 0) return { kind: "refused", reason: "bad round" };
      if (!Number.isSafeInteger(f.seq) || f.seq < 0) return { kind: "refused", reason: "bad seq" };
      const signer = f.signer.toLowerCase() as Hex;
      const k = key(f.height, f.round);
      let s = slots.get(k);
      if (s && s.signer !== signer)
        return { kind: "refused", reason: "another signer for this (height, round)" };
      const digest = bytesToHex(keccak256(f.raw));
      const had = s?.bySeq.get(f.seq);
      if (had) {
        if (had.digest === digest) return { kind: "duplicate" };
        const evidence: FragmentEvidence = {
          kind: "fragment-equivocation",
          height: f.height,
          round: f.round,
          seq: f.seq,
          signer,
          first: had.raw,
          second: f.raw,
        };
        const seen = found.some(
          (e) => e.height === f.height && e.round === f.round && e.seq === f.seq && e.signer === signer,
        );
        if (!seen) {
          found.push(evidence);
          if (found.length > opts.maxEvidence) found.shift();
        }
        return { kind: "equivocation", evidence };
      }
      const size = 2 * f.raw.length + 32 * f.txHashes.length + 128;
      if (size > opts.maxBytes) return { kind: "refused", reason: "fragment larger than the store" };
      if (!makeRoom(size, k)) return { kind: "refused", reason: "store full" };
      if (!s) {
        s = { height: f.height, round: f.round, signer, bySeq: new Map(), bytes: 0 };
        slots.set(k, s);
      }
      s.bySeq.set(f.seq, { ...f, signer, digest });
      s.bytes += size;
      bytes += size;
      f.txHashes.forEach((h, index) => {
        if (!where.has(h)) where.set(h, { height: f.height, round: f.round, seq: f.seq, index });
      });
      return { kind: "new", positions: f.txHashes.map((h) => position(h)).filter((p) => p !== undefined) };
    },

    prefix,

    longestPrefix(height) {
      let best: PreconfPrefix | undefined;
      for (const s of slots.values()) {
        if (s.height !== height) continue;
        const p = prefix(s.height, s.round);
        if (p && (!best || p.txHashes.length > best.txHashes.length)) best = p;
      }
      return best;
    },

    position,

    evidence: () => found,

    prune(height) {
      for (const [k, s] of [...slots]) if (s.height <= height) drop(k);
    },

    get bytes() {
      return bytes;
    },
  };
}
