import { errorMessage, type Hex, type Logger } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import {
  type BlockSource,
  BlocksByRangeProtocol,
  type BlockWithCertificate,
  type P2pHost,
  ResponseError,
  ResultCode,
} from "@dseq/p2p";
import type { BlockFetcher, CommitCertificate, Block as ConsensusBlock } from "@dseq/pos-consensus";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { decodeCertificate } from "./rotation.ts";

/** p2p's view of the store: the head for `status`, committed blocks with certificates for sync. */
export function chainBlockSource(chain: Chain): BlockSource {
  return {
    head: () => {
      const h = chain.head();
      return { height: h.header.number, hash: h.hash() };
    },
    async getRange(from, count) {
      const out: BlockWithCertificate[] = [];
      const head = chain.head().header.number;
      for (let n = from; n < from + BigInt(count) && n <= head; n++) {
        const block = await chain.getBlockByNumber(n);
        const cert = await chain.getCommitCertificate(n);
        if (!block || !cert) break;
        out.push({ height: n, block: block.serialize(), certificate: cert });
      }
      return out;
    },
  };
}

export type BlockFetcherOptions = {
  /** One blocks-by-range request, from opening the stream to the last block. */
  timeoutMs: number;
  /** Blocks asked per request (a node far behind gets this many per round trip). */
  batch: number;
  /** Distinct peers asked for one height before giving up until the driver asks again. */
  maxAttempts: number;
  /** How long a failed or bad answer keeps a peer behind the others. */
  failureMemoryMs: number;
  /** How long an empty answer ("I do not have it") keeps a peer behind the others. */
  emptyMemoryMs: number;
  /** Peers whose record (failures, proven progress) is kept; the oldest gone ones are forgotten first. */
  maxPeersRemembered: number;
};

export const defaultBlockFetcherOptions: BlockFetcherOptions = {
  timeoutMs: 5_000,
  // 16 x (2 MiB block + 1 MiB certificate): at most 48 MiB held for one answer (ADR 0045).
  batch: 16,
  maxAttempts: 8,
  failureMemoryMs: 60_000,
  emptyMemoryMs: 2_000,
  maxPeersRemembered: 256,
};

/** A committed block, its certificate and the peer whose answer carried them. */
export type FetchedCommit = { block: ConsensusBlock; certificate: CommitCertificate; source: string };

/**
 * The fetcher the node hands to the consensus driver. Beyond `BlockFetcher` it names the peer
 * each result came from and takes the driver's verdict on it: a certificate that does not
 * verify against the validator set, or a block that does not match, is the source's fault.
 */
export interface PeerBlockFetcher extends BlockFetcher {
  fetchCommitted(height: number, signal: AbortSignal): Promise<FetchedCommit | undefined>;
  /** Penalizes the peer `source` (p2p penalty, and it goes to the back of the queue). */
  penalize(source: string, reason: string): void;
  /** What the fetcher remembers of a peer, for tests and diagnostics. */
  peerRecord(peerId: string): Readonly<PeerRecord> | undefined;
}

type PeerRecord = {
  /** Times of recent failed or bad answers (at most the last 8). */
  failures: number[];
  /** Highest height this peer delivered in a well-formed answer: progress it proved, not claimed. */
  proven: number;
  emptyUntil: number;
};

/** Why an answer was refused; each becomes the p2p penalty reason `sync_<reason>`. */
export const BadAnswer = {
  TooMany: "too_many",
  Height: "bad_height",
  Block: "bad_block",
  Certificate: "bad_certificate",
  CertificateHeight: "certificate_height",
} as const;
export type BadAnswer = (typeof BadAnswer)[keyof typeof BadAnswer];

export class BadAnswerError extends NodeError {
  readonly reason: BadAnswer;
  constructor(reason: BadAnswer, message: string, details: Record<string, unknown> = {}) {
    super(NodeErrorCode.SyncBadAnswer, message, { details: { reason, ...details } });
    this.name = "BadAnswerError";
    this.reason = reason;
  }
}

const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{128}$/;
const MAX_SIGNATURES = 10_000;

/**
 * Decodes a certificate from the network and checks its shape: whatever the decoder returns
 * (it may accept `{"signatures":[{}]}`) is rebuilt field by field or refused. Signatures are
 * checked later by the driver, against the validator set of the height.
 */
export function decodeCertificateStrict(bytes: Uint8Array, height: bigint): CommitCertificate {
  let raw: unknown;
  try {
    raw = decodeCertificate(bytes);
  } catch (err) {
    throw new BadAnswerError(BadAnswer.Certificate, "certificate does not decode", {
      cause: errorMessage(err),
    });
  }
  const bad = (what: string): never => {
    throw new BadAnswerError(BadAnswer.Certificate, `certificate: ${what}`);
  };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return bad("not an object");
  const c = raw as Record<string, unknown>;
  if (typeof c.height !== "number" || !Number.isSafeInteger(c.height) || c.height < 0) return bad("height");
  if (BigInt(c.height) !== height) {
    throw new BadAnswerError(BadAnswer.CertificateHeight, "certificate is for another height", {
      item: height,
      certificate: c.height,
    });
  }
  if (typeof c.round !== "number" || !Number.isSafeInteger(c.round) || c.round < 0 || c.round > 0xfffffffe)
    return bad("round");
  if (typeof c.blockHash !== "string" || !HASH.test(c.blockHash)) return bad("block hash");
  if (!Array.isArray(c.signatures) || c.signatures.length === 0 || c.signatures.length > MAX_SIGNATURES)
    return bad("signatures");
  const signatures = c.signatures.map((s: unknown) => {
    const o = s as Record<string, unknown> | null;
    if (o === null || typeof o !== "object") return bad("signature entry");
    if (typeof o.validator !== "string" || !ADDRESS.test(o.validator)) return bad("signature validator");
    if (typeof o.signature !== "string" || !SIGNATURE.test(o.signature)) return bad("signature bytes");
    return { validator: o.validator.toLowerCase() as Hex, signature: o.signature.toLowerCase() as Hex };
  });
  return {
    height: c.height,
    round: c.round,
    blockHash: c.blockHash.toLowerCase() as Hex,
    signatures,
  };
}

/**
 * Checks one blocks-by-range answer to "`count` blocks from `from`": at most `count` items,
 * heights consecutive from `from`, each block non-empty and within `maxBlockBytes`, each
 * certificate well formed and for its item's height. One bad item refuses the whole answer.
 */
export function checkBlocksAnswer(
  items: readonly BlockWithCertificate[],
  from: number,
  count: number,
  maxBlockBytes: number,
): FetchedCommit[] {
  if (items.length > count) {
    throw new BadAnswerError(BadAnswer.TooMany, "more blocks than asked", {
      asked: count,
      got: items.length,
    });
  }
  return items.map((item, i) => {
    const height = BigInt(from) + BigInt(i);
    if (item.height !== height) {
      throw new BadAnswerError(BadAnswer.Height, "heights do not follow on from the one asked", {
        expected: height,
        got: item.height,
      });
    }
    if (item.block.length === 0 || item.block.length > maxBlockBytes) {
      throw new BadAnswerError(BadAnswer.Block, "block is empty or too large", { bytes: item.block.length });
    }
    const certificate = decodeCertificateStrict(item.certificate, height);
    return { block: { hash: certificate.blockHash, payload: item.block }, certificate, source: "" };
  });
}

/** The p2p penalty reason for a verdict of the driver: one label, the text goes to the log. */
const CONSENSUS_REJECT = "sync_rejected_by_consensus";

/**
 * Catch-up through `blocks_by_range`, trusting no single peer. Each height is asked of ready
 * peers in turn (those with recent failures or empty answers last, then by progress they proved
 * with good answers, ties taken round-robin), never of the same peer twice in a row after a bad
 * answer. A peer's claimed head only demotes it (a claim below the height asked); a huge claim
 * buys nothing. Answers are shape-checked here; the driver verifies certificates against the
 * validator set and the app re-executes each block, and their verdict comes back through
 * `penalize(source, reason)`. Blocks fetched ahead come from one answer and are used only in
 * order, right after the block before them from the same answer. ADR 0045.
 */
export function p2pBlockFetcher(
  p2p: P2pHost,
  logger: Logger,
  options: Partial<BlockFetcherOptions> = {},
): PeerBlockFetcher {
  const opts = { ...defaultBlockFetcherOptions, ...options };
  const batch = Math.max(1, Math.min(opts.batch, p2p.opts.maxBlocksPerRequest));
  const records = new Map<string, PeerRecord>();
  /** The unused tail of the last good answer: at most `batch - 1` blocks, all from `source`. */
  let ahead: { source: string; next: number; items: FetchedCommit[] } | undefined;
  let cursor = 0;

  const now = (): number => Date.now();

  function record(peerId: string): PeerRecord {
    let r = records.get(peerId);
    if (r) return r;
    r = { failures: [], proven: 0, emptyUntil: 0 };
    records.set(peerId, r);
    if (records.size > opts.maxPeersRemembered) {
      const connected = new Set(p2p.peers().map((p) => p.peerId));
      for (const key of records.keys()) {
        if (records.size <= opts.maxPeersRemembered) break;
        if (!connected.has(key)) records.delete(key);
      }
      // Every remembered peer is connected (maxPeersRemembered below maxConnections): drop the oldest.
      for (const key of records.keys()) {
        if (records.size <= opts.maxPeersRemembered || key === peerId) break;
        records.delete(key);
      }
    }
    return r;
  }

  function recentFailures(r: PeerRecord | undefined, t: number): number {
    if (!r) return 0;
    r.failures = r.failures.filter((x) => x > t - opts.failureMemoryMs);
    return r.failures.length;
  }

  function fail(peerId: string): void {
    const r = record(peerId);
    r.failures.push(now());
    if (r.failures.length > 8) r.failures.shift();
    if (ahead?.source === peerId) ahead = undefined;
  }

  function badAnswer(peerId: string, height: number, err: BadAnswerError): void {
    logger.warn("catch-up answer refused", {
      peer: peerId,
      height,
      reason: err.reason,
      details: err.details,
    });
    p2p.penalize(peerId, `sync_${err.reason}`);
    fail(peerId);
  }

  /** Ready, unbanned peers in the order to ask them for `height`. */
  function order(height: number): string[] {
    const t = now();
    const asked = BigInt(height);
    const peers = p2p
      .peers()
      .filter((p) => p.state === "ready" && !p2p.isBanned(p.peerId))
      .sort((x, y) => (x.peerId < y.peerId ? -1 : x.peerId > y.peerId ? 1 : 0));
    const n = peers.length;
    const start = n === 0 ? 0 : cursor++ % n;
    const keyed = peers.map((p, i) => {
      const r = records.get(p.peerId);
      return {
        peerId: p.peerId,
        failures: recentFailures(r, t),
        empty: r !== undefined && r.emptyUntil > t ? 1 : 0,
        // A claim is a hint that can only demote: a peer saying it is behind `height` goes later.
        behind: p.headHeight !== undefined && p.headHeight < asked ? 1 : 0,
        proven: r?.proven ?? 0,
        turn: (i - start + n) % n,
      };
    });
    keyed.sort(
      (a, b) =>
        a.failures - b.failures ||
        a.empty - b.empty ||
        a.behind - b.behind ||
        b.proven - a.proven ||
        a.turn - b.turn,
    );
    return keyed.map((k) => k.peerId);
  }

  async function ask(
    peerId: string,
    height: number,
    signal: AbortSignal,
  ): Promise<FetchedCommit[] | undefined> {
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]);
    let items: BlockWithCertificate[];
    try {
      items = await p2p.request(
        peerId,
        BlocksByRangeProtocol,
        { from: BigInt(height), count: batch },
        { signal: attempt },
      );
    } catch (err) {
      if (signal.aborted) return undefined;
      if (err instanceof ResponseError && err.resultCode === ResultCode.ResourceUnavailable) {
        record(peerId).emptyUntil = now() + opts.emptyMemoryMs;
        return undefined;
      }
      // Bad frames and undecodable bodies were penalized by the host; timeouts and refusals are
      // not the peer's proven fault, but it still waits behind the others for a while.
      logger.debug("catch-up request failed", { peer: peerId, height, err: errorMessage(err) });
      fail(peerId);
      return undefined;
    }
    let got: FetchedCommit[];
    try {
      got = checkBlocksAnswer(items, height, batch, p2p.opts.maxBlockBytes);
    } catch (err) {
      if (!(err instanceof BadAnswerError)) throw err;
      badAnswer(peerId, height, err);
      return undefined;
    }
    const r = record(peerId);
    if (got.length === 0) {
      r.emptyUntil = now() + opts.emptyMemoryMs;
      return undefined;
    }
    r.proven = Math.max(r.proven, height + got.length - 1);
    r.emptyUntil = 0;
    for (const g of got) g.source = peerId;
    return got;
  }

  async function fetchOne(height: number, signal: AbortSignal): Promise<FetchedCommit | undefined> {
    if (ahead && ahead.next === height) {
      const hit = ahead.items.shift();
      if (hit) {
        ahead.next = height + 1;
        if (ahead.items.length === 0) ahead = undefined;
        return hit;
      }
    }
    ahead = undefined;
    const peers = order(height).slice(0, opts.maxAttempts);
    for (const peerId of peers) {
      if (signal.aborted) return undefined;
      const got = await ask(peerId, height, signal);
      if (!got) continue;
      const [first, ...rest] = got as [FetchedCommit, ...FetchedCommit[]];
      if (rest.length > 0) ahead = { source: peerId, next: height + 1, items: rest };
      return first;
    }
    return undefined;
  }

  return {
    async fetchBlock(height, blockHash, signal) {
      const got = await fetchOne(height, signal);
      return got && got.block.hash === blockHash.toLowerCase() ? got.block : undefined;
    },
    fetchCommitted: fetchOne,
    penalize(source, reason) {
      logger.warn("catch-up block refused by consensus", { peer: source, reason });
      p2p.penalize(source, CONSENSUS_REJECT);
      const r = record(source);
      r.proven = 0;
      fail(source);
    },
    peerRecord(peerId) {
      return records.get(peerId);
    },
  };
}
