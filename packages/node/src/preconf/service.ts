import type { Hex, Logger } from "@dseq/common";
import { type IncludedTx, pendingReceipt } from "@dseq/l2-exec";
import type { JsonObject, PreconfSource } from "@dseq/rpc";
import type { SignedFragment } from "../blockStream.ts";
import { createPreconfFeed, preconfirmationOf } from "./feed.ts";
import { preconfFromSigned, preconfFromWire } from "./fromWire.ts";
import { createOutcomeBook, type TxOutcomeSink } from "./outcomes.ts";
import { preconfReceiptJson } from "./receipt.ts";
import {
  type AddResult,
  createPreconfStore,
  defaultPreconfStoreOptions,
  type FragmentEvidence,
  type PreconfFragment,
  type PreconfStore,
  type PreconfStoreOptions,
} from "./store.ts";

/**
 * The node's preconfirmation service (ADR 0170): one store, one feed for the RPC. Every fragment
 * the node streams itself or accepts off the proposal topic goes through `record`: new ones are
 * published as preconfirmations, contradicting ones become evidence (ADR 0171) and are logged.
 *
 * With `awaitReceipts` (a node that builds the stream: the proposer's open block or a
 * validator's build of it), a fragment is published once this node's build has run each of its
 * transactions, with their receipts (ADR 0175); past `receiptWaitMs` it goes out with what is known.
 */
export type PreconfService = {
  store: PreconfStore;
  /** For `rpc.subscriptions.setPreconfSource` and sendRawSync's `{ preconfirmed: true }`. */
  source: PreconfSource;
  /** A fragment this node signed and is about to gossip (its wire bytes). */
  own(raw: Uint8Array): AddResult;
  /** A fragment accepted off the proposal topic, with the bytes it came in. */
  gossiped(f: SignedFragment, raw: Uint8Array): AddResult;
  /** The streamed builds' per-transaction outcomes (openBlock, streamFollower). */
  outcomes: TxOutcomeSink;
  /** The preconfirmed receipt of `txHash` (blockHash null), once its fragment was published. */
  receipt(txHash: Hex): JsonObject | undefined;
  evidence(): readonly FragmentEvidence[];
  /** Stops the receipt-wait timer. */
  close(): void;
};

export type PreconfServiceOptions = PreconfStoreOptions & {
  /** Wait for this node's build to give each fragment's receipts before publishing it. */
  awaitReceipts: boolean;
  /** Longest wait for them (a build that is not running: publish without). */
  receiptWaitMs: number;
};

export const defaultPreconfServiceOptions: PreconfServiceOptions = {
  ...defaultPreconfStoreOptions,
  awaitReceipts: false,
  receiptWaitMs: 1000,
};

/** Heights whose outcomes are kept (the one being built, and a late one). */
const OUTCOME_HEIGHTS = 3;
/** Published receipts kept for `receipt()` lookups. */
const MAX_RECEIPTS = 50_000;
/** Fragments waiting for receipts at most (the oldest go out without). */
const MAX_WAITING = 256;

export function createPreconfService(
  d: { chainId: bigint; logger: Logger; onEvidence?(): void; onPublished?(): void },
  opts: Partial<PreconfServiceOptions> = {},
): PreconfService {
  const o = { ...defaultPreconfServiceOptions, ...opts };
  const store = createPreconfStore(o);
  const feed = createPreconfFeed();
  const book = createOutcomeBook();
  const published = new Map<Hex, JsonObject>();
  let waiting: { f: PreconfFragment; since: number }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** Publishes `f` with the receipts known for it; false when it should wait for more. */
  const publish = (f: PreconfFragment, force: boolean): boolean => {
    const receipts: JsonObject[] = [];
    let gasUsed: bigint | undefined;
    for (const h of f.txHashes) {
      const r = book.get(f.height, h);
      if (r === undefined && !force) return false;
      if (!r) continue;
      const json = preconfReceiptJson(r, BigInt(f.height), f.timestamp);
      receipts.push(json);
      gasUsed = r.cumulativeGasUsed;
      published.set(h, json);
      if (published.size > MAX_RECEIPTS) published.delete(published.keys().next().value as Hex);
    }
    feed.emit(preconfirmationOf(f, receipts, gasUsed));
    d.onPublished?.();
    return true;
  };
  const drain = (): void => {
    const now = Date.now();
    const overflow = waiting.length - MAX_WAITING;
    waiting = waiting.filter((w, i) => !publish(w.f, i < overflow || now - w.since >= o.receiptWaitMs));
    if (timer === undefined && waiting.length > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        drain();
      }, o.receiptWaitMs);
      timer.unref?.();
    }
  };
  const record = (f: PreconfFragment): AddResult => {
    const r = store.add(f);
    if (r.kind === "new") {
      if (!o.awaitReceipts) publish(f, true);
      else {
        waiting.push({ f, since: Date.now() });
        drain();
      }
    } else if (r.kind === "equivocation") {
      d.onEvidence?.();
      d.logger.error("fragment equivocation evidence", {
        height: f.height,
        round: f.round,
        seq: f.seq,
        signer: f.signer,
      });
    }
    return r;
  };
  let queued: ({ height: number; x: IncludedTx } | { height: number; txHash: Hex })[] = [];
  let scheduled = false;
  const settle = (): void => {
    scheduled = false;
    const batch = queued;
    queued = [];
    for (const q of batch) {
      if ("x" in q) {
        const r = pendingReceipt(q.x);
        book.set(q.height, r.transactionHash, r);
      } else book.set(q.height, q.txHash, null);
      note(q.height);
    }
    if (waiting.length > 0) drain();
  };
  const later = (q: (typeof queued)[number]): void => {
    queued.push(q);
    if (!scheduled) {
      scheduled = true;
      setImmediate(settle);
    }
  };
  let top = 0;
  const note = (height: number): void => {
    if (height > top) {
      top = height;
      book.trim(OUTCOME_HEIGHTS);
    }
  };
  return {
    store,
    source: feed.source,
    own: (raw) => record(preconfFromWire(raw, d.chainId)),
    gossiped: (f, raw) => record(preconfFromSigned(f, raw)),
    outcomes: {
      // Called inside the build loop, once per transaction: queue, and do the work (receipt
      // fields, publishing) once per turn of the event loop, off the build's path.
      included(height, x) {
        later({ height, x });
      },
      skipped(height, txHash) {
        later({ height, txHash });
      },
    },
    receipt: (txHash) => published.get(txHash.toLowerCase() as Hex),
    evidence: () => store.evidence(),
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
