import { errorMessage, type Logger, type Metrics } from "@dseq/common";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { buildBlobSidecar } from "../codec/blobs.ts";
import type { Compression } from "../codec/compress.ts";
import { encodeBatch } from "../codec/encodeBatch.ts";
import {
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  batchDigest,
  buildBatchHeader,
} from "../codec/header.ts";
import type { CommittedBlock, CommittedBlockSource } from "../codec/types.ts";
import { type CutterOptions, cutBatch, defaultCutterOptions } from "../cutter/cutBatch.ts";
import { BatchError, BatchErrorCode } from "../errors.ts";
import { readInboxTip } from "./readInboxTip.ts";
import { defaultFeeOptions, type FeeOptions, sendBatchTx } from "./sendBatchTx.ts";
import { createSubmitterMetrics, type SubmitterMetrics } from "./submitterMetrics.ts";
import {
  type InFlight,
  loadSubmitterState,
  type SubmitterState,
  saveSubmitterState,
} from "./submitterState.ts";

/** Signs a batch digest with the group key; the node wires its TSS coordinator here. */
export type GroupSigner = {
  /**
   * Returns a signature BatchInbox accepts: 96-byte rx || ry || z (the cheapest, what the node
   * sends, ADR 0156), 65-byte RFC 9591 or the 160-byte affine form.
   */
  sign(digest: Hex, ctx: { header: BatchHeader; data: Uint8Array }): Promise<Hex>;
};

export type BatchSubmitterOptions = {
  rpcUrl: string;
  l1ChainId: number;
  inbox: Address;
  l2ChainId: bigint;
  /** The funded L1 account that pays for batches (never logged). */
  privateKey: Hex;
  /** Directory of the state file (the batch in flight). */
  stateDir: string;
  dataKind: BatchDataKind;
  compression?: Compression;
  /** L1 blocks on top of the batch's block (itself included) before it counts as posted. */
  confirmations: number;
  /** Replace a batch transaction not mined after this long, with a fee bump. */
  resubmitAfterMs: number;
  pollMs: number;
  /** Every L1 call gives up after this long: a slow L1 never holds the loop. */
  rpcTimeoutMs: number;
  /** Calldata batches larger than this are cut smaller (EIP-7623 makes big calldata dear). */
  maxCalldataBytes: number;
  cutter: CutterOptions;
  fees: FeeOptions;
};

export const defaultBatchSubmitterOptions = {
  dataKind: BatchDataKind.blobs,
  confirmations: 6,
  resubmitAfterMs: 60_000,
  pollMs: 2_000,
  rpcTimeoutMs: 10_000,
  maxCalldataBytes: 120_000,
  cutter: defaultCutterOptions,
  fees: defaultFeeOptions,
} satisfies Partial<BatchSubmitterOptions>;

export type BatchSubmitterModules = {
  source: CommittedBlockSource;
  signer: GroupSigner;
  logger: Logger;
  metrics?: Metrics;
  /** Whether this submitter may cut the batch after `tip` now (default always; `submitterTurn`). */
  turn?: (tip: BatchTip) => boolean;
};

export type TickResult =
  | { action: "idle" | "busy" | "waiting" | "mining" }
  | { action: "sent" | "replaced"; batchIndex: bigint; hash: Hex }
  | { action: "confirmed"; header: BatchHeader; receipt?: TransactionReceipt; byOther: boolean }
  | { action: "dropped"; batchIndex: bigint; why: string }
  | { action: "error"; error: string };

/**
 * Posts threshold-signed batches of committed blocks to BatchInbox: cut, encode, sign, send,
 * replace with fee bumps, confirm at a depth; resumes the batch in flight after a restart, and
 * re-sends after an L1 reorg. The inbox's lastBatchIndex decides what is next, so each batch
 * lands once. `tick()` is one step; `start()` runs it on a timer and never blocks its caller.
 */
export class BatchSubmitter {
  readonly opts: BatchSubmitterOptions;
  private readonly m: BatchSubmitterModules;
  private readonly metrics: SubmitterMetrics;
  private readonly publicClient: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, PrivateKeyAccount>;
  private state: SubmitterState;
  private readonly cache = new Map<bigint, CommittedBlock>();
  private ticking: Promise<TickResult> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: BatchSubmitterOptions, modules: BatchSubmitterModules) {
    if (opts.confirmations < 1)
      throw new BatchError(BatchErrorCode.InvalidOptions, "confirmations must be at least 1");
    this.opts = opts;
    this.m = modules;
    this.metrics = createSubmitterMetrics(modules.metrics);
    const chain = defineChain({
      id: opts.l1ChainId,
      name: `l1-${opts.l1ChainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [opts.rpcUrl] } },
    });
    const transport = http(opts.rpcUrl, { timeout: opts.rpcTimeoutMs, retryCount: 0 });
    this.publicClient = createPublicClient({ chain, transport }) as PublicClient;
    this.wallet = createWalletClient({ account: privateKeyToAccount(opts.privateKey), chain, transport });
    this.state = loadSubmitterState(opts.stateDir);
  }

  /** The batch in flight, if any (for /health and tests). */
  get inFlight(): InFlight | undefined {
    return this.state.inFlight;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One step; errors are logged and counted, never thrown. */
  tick(): Promise<TickResult> {
    if (this.ticking) return Promise.resolve({ action: "busy" });
    this.ticking = this.step()
      .catch((err): TickResult => {
        this.metrics.errors.inc({ kind: err instanceof BatchError ? err.code : "l1" });
        this.m.logger.warn("batch submitter step failed", { error: errorMessage(err) });
        return { action: "error", error: errorMessage(err) };
      })
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private save(): void {
    saveSubmitterState(this.opts.stateDir, this.state);
  }

  private async step(): Promise<TickResult> {
    const [tip, l1Head] = await Promise.all([
      readInboxTip(this.publicClient, this.opts.inbox),
      this.publicClient.getBlockNumber({ cacheTime: 0 }),
    ]);
    const f = this.state.inFlight;
    if (f) return this.followInFlight(f, tip, l1Head);
    return this.cutAndSend(tip);
  }

  private async receiptOf(f: InFlight): Promise<TransactionReceipt | undefined> {
    for (const tx of [...f.txs].reverse()) {
      const r = await this.publicClient.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined);
      if (r) return r;
    }
    return undefined;
  }

  private async followInFlight(f: InFlight, tip: BatchTip, l1Head: bigint): Promise<TickResult> {
    const receipt = await this.receiptOf(f);
    if (tip.batchIndex >= f.header.batchIndex) {
      if (receipt?.status !== "success") {
        // Landed through another submitter's transaction: ours, if mined later, reverts harmlessly.
        return this.finish(f, undefined, true);
      }
      const depth = l1Head - receipt.blockNumber + 1n;
      const block = await this.publicClient.getBlock({ blockNumber: receipt.blockNumber });
      if (block.hash !== receipt.blockHash) return { action: "waiting" }; // reorg under way
      if (depth < BigInt(this.opts.confirmations)) return { action: "waiting" };
      return this.finish(f, receipt, false);
    }
    if (receipt?.status === "reverted")
      return this.drop(f, `transaction ${receipt.transactionHash} reverted`);
    if (receipt) return { action: "waiting" }; // mined, the inbox read raced it
    const nonce = await this.publicClient.getTransactionCount({
      address: this.wallet.account.address,
      blockTag: "latest",
    });
    if (nonce > f.nonce) return this.drop(f, `nonce ${f.nonce} was used by another transaction`);
    const last = f.txs[f.txs.length - 1];
    if (last && Date.now() - last.sentAtMs < this.opts.resubmitAfterMs) return { action: "mining" };
    // Never sent (crash before send), stuck, or dropped by an L1 reorg: send again, bumped.
    const sent = await sendBatchTx(this.sendCtx(), f);
    f.txs.push(sent);
    this.save();
    if (last) this.metrics.replacements.inc();
    this.m.logger.info(last ? "batch transaction replaced" : "batch transaction sent", {
      batchIndex: f.header.batchIndex,
      hash: sent.hash,
      nonce: f.nonce,
      maxFeePerGas: sent.maxFeePerGas.toString(),
    });
    return { action: last ? "replaced" : "sent", batchIndex: f.header.batchIndex, hash: sent.hash };
  }

  private finish(f: InFlight, receipt: TransactionReceipt | undefined, byOther: boolean): TickResult {
    const kind = f.header.dataKind === BatchDataKind.calldata ? "calldata" : "blobs";
    this.state = { version: 1 };
    this.save();
    this.metrics.batchesPosted.inc({ kind });
    this.metrics.bytesPosted.inc({ kind }, f.data.length);
    if (receipt) this.metrics.l1Gas.inc({ kind }, Number(receipt.gasUsed));
    for (let n = f.header.firstBlock; n <= f.header.lastBlock; n++) this.cache.delete(n);
    this.m.logger.info("batch posted", {
      batchIndex: f.header.batchIndex,
      firstBlock: f.header.firstBlock,
      lastBlock: f.header.lastBlock,
      bytes: f.data.length,
      kind,
      byOther,
      gasUsed: receipt?.gasUsed.toString(),
    });
    return { action: "confirmed", header: f.header, receipt, byOther };
  }

  private drop(f: InFlight, why: string): TickResult {
    this.state = { version: 1 };
    this.save();
    this.m.logger.warn("batch in flight dropped, cutting again from the inbox tip", {
      batchIndex: f.header.batchIndex,
      why,
    });
    return { action: "dropped", batchIndex: f.header.batchIndex, why };
  }

  private sendCtx() {
    return {
      inbox: this.opts.inbox,
      publicClient: this.publicClient,
      wallet: this.wallet,
      fees: this.opts.fees,
    };
  }

  private async blocksAfter(tip: BatchTip, head: bigint): Promise<CommittedBlock[]> {
    const out: CommittedBlock[] = [];
    const upTo =
      head < tip.lastBlock + BigInt(this.opts.cutter.maxBlocks)
        ? head
        : tip.lastBlock + BigInt(this.opts.cutter.maxBlocks);
    for (let n = tip.lastBlock + 1n; n <= upTo; n++) {
      let b = this.cache.get(n);
      if (!b) {
        b = await this.m.source.block(n);
        if (!b) break;
        this.cache.set(n, b);
      }
      out.push(b);
    }
    for (const n of this.cache.keys()) if (n <= tip.lastBlock) this.cache.delete(n);
    return out;
  }

  private async cutAndSend(tip: BatchTip): Promise<TickResult> {
    const mine = this.m.turn ? this.m.turn(tip) : true; // asked every tick: it times the takeover
    const head = await this.m.source.head();
    const behind = head > tip.lastBlock ? head - tip.lastBlock : 0n;
    this.metrics.lagBlocks.set(Number(behind));
    const blocks = await this.blocksAfter(tip, head);
    const now = BigInt(Math.floor(Date.now() / 1000));
    this.metrics.lagSeconds.set(blocks[0] ? Number(now - blocks[0].timestamp) : 0);
    const cutter =
      this.opts.dataKind === BatchDataKind.calldata
        ? {
            ...this.opts.cutter,
            maxRawBytes: Math.min(this.opts.cutter.maxRawBytes, this.opts.maxCalldataBytes),
          }
        : this.opts.cutter;
    const pending = blocks.map((b) => ({
      number: b.number,
      timestamp: b.timestamp,
      rawBytes: b.transactions.reduce((s, t) => s + t.length, 0),
    }));
    const d = cutBatch(pending, now, cutter);
    if (!d.cut || !mine) return { action: "idle" };
    const batch = blocks.slice(0, d.count);
    const data = encodeBatch(batch, { chainId: this.opts.l2ChainId, compression: this.opts.compression });
    const header =
      this.opts.dataKind === BatchDataKind.calldata
        ? buildBatchHeader(this.opts.l2ChainId, tip, batch, { kind: BatchDataKind.calldata, data })
        : buildBatchHeader(this.opts.l2ChainId, tip, batch, {
            kind: BatchDataKind.blobs,
            versionedHashes: buildBlobSidecar(data).versionedHashes,
          });
    const t0 = performance.now();
    const signature = await this.m.signer.sign(
      batchDigest({ l1ChainId: this.opts.l1ChainId, address: this.opts.inbox }, header),
      { header, data },
    );
    this.metrics.signSeconds.observe((performance.now() - t0) / 1000);
    const nonce = await this.publicClient.getTransactionCount({
      address: this.wallet.account.address,
      blockTag: "pending",
    });
    const f: InFlight = { header, data, signature, nonce, txs: [] };
    this.state = { version: 1, inFlight: f };
    this.save(); // before sending: a crash after the send resumes with this nonce, never a second batch
    this.m.logger.info("batch cut", {
      batchIndex: header.batchIndex,
      firstBlock: header.firstBlock,
      lastBlock: header.lastBlock,
      reason: d.reason,
      bytes: data.length,
    });
    const sent = await sendBatchTx(this.sendCtx(), f);
    f.txs.push(sent);
    this.save();
    return { action: "sent", batchIndex: header.batchIndex, hash: sent.hash };
  }
}
