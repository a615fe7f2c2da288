import { bytesToHex, equalBytes, type Hex, type Logger } from "@dseq/common";
import type { BuildResult, BuildTxSource, Chain } from "@dseq/l2-exec";
import type { Block as ConsensusBlock } from "@dseq/pos-consensus";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { encodeBlockExtra } from "./blockExtra.ts";
import type { SignedFragment } from "./blockStream.ts";
import { buildYield } from "./buildYield.ts";
import { outcomeHooks, type TxOutcomeSink } from "./preconf/outcomes.ts";

/**
 * A validator's build of the next proposer's streamed block: fragments are applied in `seq`
 * order; the proposal's transactions not streamed yet are added at the end (ADR 0092).
 */
type Speculation = {
  height: number;
  parentHash: Hex;
  proposer: Hex;
  nextSeq: number;
  pendingFragments: Map<number, Uint8Array[]>;
  queue: TypedTransaction[];
  /** Hashes of the transactions handed to the build, in order: a prefix of the proposer's. */
  offered: Set<Hex>;
  /** No more transactions go into the build (the last fragment, the proposal, or given up). */
  ended: boolean;
  /** `seq` of the fragment marked last, once seen. */
  lastSeq: number | undefined;
  /** Given up (a bad fragment, a new height): never matches. */
  dropped: boolean;
  wake: (() => void) | undefined;
  result: Promise<BuildResult | undefined>;
  /** The built block's serialization, made once, on the first comparison with a proposal. */
  payload: Uint8Array | undefined;
};

export type StreamFollowerOptions = { blockTimeMs: number; maxTxsPerBlock: number; continuousBuild: boolean };

export type StreamFollowerModules = {
  chain: Chain;
  pool: TxPool;
  proposerFor(height: number, round: number): Hex;
  rewardRecipientOf(height: number, validator: Hex): Hex;
  self: Hex | undefined;
  logger: Logger;
  streamed?(result: "hit" | "miss"): void;
  /** Told each transaction's receipt as this node's build of the stream includes it (ADR 0175). */
  outcomes?: TxOutcomeSink;
};

export type StreamFollower = {
  /** A fragment of the round-0 proposer of the next height (already signature-checked). */
  onFragment(f: SignedFragment): void;
  /**
   * This node's build of the stream is sealed (the last fragment arrived before the proposal,
   * or an earlier proposal completed it): when the proposal is byte for byte that block, it is
   * returned (no decoding, no execution). A payload that differs, under whatever hash, gets undefined and the normal path.
   */
  sealedMatch(height: number, cb: ConsensusBlock): Promise<Block | undefined>;
  /**
   * Finishes this node's streamed build with the proposal's transactions it has not seen and
   * says whether the result is exactly the proposal (its hash and its payload bytes).
   */
  match(height: number, cb: ConsensusBlock, block: Block, proposer: Hex): Promise<boolean>;
  /** `height` is committed: drop its build, replay fragments held for the next one. */
  committed(height: number): void;
  /**
   * Hashes the streamed build of `height` executed and skipped (the preconf drop rule, ADR
   * 0172): known once that build ended in `match`; undefined when this node built no stream.
   */
  skippedOf(height: number): ReadonlySet<Hex> | undefined;
};

/** Fragments held for the height after next (their proposer committed before we did). */
const MAX_HELD_FRAGMENTS = 256;
/** Out-of-order fragments kept per height. */
const MAX_PENDING_FRAGMENTS = 64;

/** The validator side of block streaming (ADR 0092). */
export function createStreamFollower(opts: StreamFollowerOptions, m: StreamFollowerModules): StreamFollower {
  const slotSeconds = BigInt(opts.blockTimeMs / 1000);
  let spec: Speculation | undefined;
  let held: SignedFragment[] = [];
  let lastSkipped: { height: number; hashes: Set<Hex> } | undefined;
  const noteSkipped = (height: number, built: BuildResult | undefined): void => {
    if (built) lastSkipped = { height, hashes: new Set(built.skipped.map((x) => x.hash)) };
  };

  const end = (): void => {
    if (!spec) return;
    spec.ended = true;
    spec.dropped = true;
    spec.wake?.();
    spec = undefined;
  };

  /** Whether `payload` is byte-equal to the built block (serialized once per build). */
  const samePayload = (s: Speculation, built: BuildResult, payload: Uint8Array): boolean => {
    s.payload ??= built.block.serialize();
    return equalBytes(s.payload, payload);
  };

  const start = (parent: Block, f: SignedFragment, proposer: Hex): Speculation => {
    const s: Speculation = {
      height: f.height,
      parentHash: f.parentHash,
      proposer,
      nextSeq: 0,
      pendingFragments: new Map(),
      queue: [],
      offered: new Set(),
      ended: false,
      lastSeq: undefined,
      dropped: false,
      wake: undefined,
      result: Promise.resolve(undefined),
      payload: undefined,
    };
    const pause = buildYield();
    const source: BuildTxSource = {
      ...outcomeHooks(m.outcomes, f.height),
      async next() {
        await pause();
        for (;;) {
          const tx = s.queue.shift();
          if (tx !== undefined) return tx;
          if (s.ended) return undefined;
          await new Promise<void>((resolve) => {
            s.wake = () => {
              s.wake = undefined;
              resolve();
            };
          });
        }
      },
    };
    s.result = m.chain
      .buildBlock({
        parent,
        txs: source,
        timestamp: f.timestamp,
        coinbase: m.rewardRecipientOf(f.height, proposer),
        extraData: encodeBlockExtra({ round: 0, proposer }),
      })
      .catch((err: unknown) => {
        m.logger.debug("streamed build failed", { height: f.height, err: (err as Error).message });
        return undefined;
      });
    return s;
  };

  const onFragment = (f: SignedFragment): void => {
    if (!opts.continuousBuild || m.self === undefined) return;
    const head = m.chain.head();
    const next = Number(head.header.number) + 1;
    if (f.height === next + 1) {
      if (held.length < MAX_HELD_FRAGMENTS) held.push(f);
      return;
    }
    if (f.height !== next || f.parentHash !== bytesToHex(head.hash())) return;
    if (f.timestamp !== head.header.timestamp + slotSeconds) return;
    let proposer: Hex;
    try {
      proposer = m.proposerFor(f.height, 0);
    } catch {
      return;
    }
    if (f.signer !== proposer.toLowerCase() || proposer === m.self) return;
    if (!spec || spec.height !== f.height || spec.parentHash !== f.parentHash) {
      end();
      spec = start(head, f, proposer);
    }
    const s = spec;
    if (s.ended || f.seq < s.nextSeq || s.pendingFragments.has(f.seq)) return;
    if (s.pendingFragments.size >= MAX_PENDING_FRAGMENTS) return;
    if (f.last) s.lastSeq = f.seq;
    s.pendingFragments.set(f.seq, f.txs);
    for (
      let txs = s.pendingFragments.get(s.nextSeq);
      txs !== undefined;
      txs = s.pendingFragments.get(s.nextSeq)
    ) {
      s.pendingFragments.delete(s.nextSeq);
      s.nextSeq++;
      for (const raw of txs) {
        let tx: TypedTransaction;
        try {
          tx = m.chain.decodeTx(raw);
        } catch {
          // The proposer streamed something that is not a transaction: stop following it.
          end();
          return;
        }
        const hash = bytesToHex(tx.hash());
        const key = m.pool.get(hash)?.tx.cache.senderPubKey;
        if (key !== undefined) tx.cache.senderPubKey = key;
        s.queue.push(tx);
        s.offered.add(hash);
      }
      if (s.offered.size > opts.maxTxsPerBlock) {
        end();
        return;
      }
      if (s.lastSeq !== undefined && s.nextSeq > s.lastSeq) {
        // The proposer sealed: seal ours too, while its proposal is on the way.
        s.ended = true;
        break;
      }
    }
    s.wake?.();
  };

  return {
    onFragment,

    async sealedMatch(height, cb) {
      const s = spec;
      if (!s || s.dropped || !s.ended || s.height !== height) return undefined;
      const built = await s.result;
      if (!built || spec !== s || bytesToHex(built.block.hash()) !== cb.hash) return undefined;
      // Same hash is not enough: the hash covers the header only, and a raced payload could
      // carry another body under it. Only the exact bytes of this node's block are that block.
      if (!samePayload(s, built, cb.payload)) return undefined;
      if (bytesToHex(built.block.header.parentHash) !== bytesToHex(m.chain.head().hash())) return undefined;
      spec = undefined;
      m.streamed?.("hit");
      return built.block;
    },

    async match(height, cb, block, proposer) {
      const s = spec;
      if (!s || s.dropped || s.height !== height || s.proposer !== proposer) return false;
      if (s.parentHash !== bytesToHex(block.header.parentHash)) return false;
      spec = undefined;
      // The offered transactions are a prefix of the proposer's, and whatever it skipped changed
      // no state, so the proposal's remaining transactions complete the same block.
      const rest = block.transactions.filter((tx) => !s.offered.has(bytesToHex(tx.hash())));
      if (s.ended && rest.length > 0) {
        m.streamed?.("miss"); // sealed on the last fragment, yet the proposal has more
        noteSkipped(height, await s.result);
        return false;
      }
      s.queue.push(...rest);
      s.ended = true;
      s.wake?.();
      const built = await s.result;
      noteSkipped(height, built);
      const sameHash = built !== undefined && bytesToHex(built.block.hash()) === cb.hash;
      const hit = sameHash && samePayload(s, built, cb.payload);
      // Another body raced in under our block's hash: keep the block for the real proposal.
      if (sameHash && !hit && spec === undefined) spec = s;
      m.streamed?.(hit ? "hit" : "miss");
      return hit;
    },

    committed(height) {
      if (spec && spec.height <= height) end();
      const replay = held;
      held = [];
      for (const f of replay) if (f.height === height + 1) onFragment(f);
      if (lastSkipped && lastSkipped.height <= height) lastSkipped = undefined;
    },

    skippedOf(height) {
      return lastSkipped?.height === height ? lastSkipped.hashes : undefined;
    },
  };
}
