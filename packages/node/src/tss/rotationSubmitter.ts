import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultFeeOptions, type FeeOptions } from "@dseq/batch-submitter";
import { createNoopLogger, type Hex, type Logger } from "@dseq/common";
import { BatchInboxArtifact, rotationDigest } from "@dseq/l1-contracts";
import { encodeFunctionData, type PublicClient, type WalletClient } from "viem";
import { writeFileAtomic } from "../atomicFile.ts";
import { gasLimit, l1PosterClients, offerFees, runPollLoop, type SavedFees } from "./l1Poster.ts";
import { type InboxKeyState, readInboxKey } from "./rotationApprove.ts";

/** What TssService.rotation() gives: L1 must move from `from` (what it has) to `to`. */
export type PendingRotation = { from: Hex; to: Hex; epoch: number };

export type RotationSubmitterOptions = {
  rpcUrl: string;
  l1ChainId: number;
  inbox: Hex;
  /** The funded L1 account that sends rotateGroupKey (the node's batch account). */
  privateKey: Hex;
  /** `<dataDir>/rotation`: the rotation in flight survives a restart here. */
  stateDir: string;
  /**
   * Replace a transaction not mined after this long (same nonce; fees by `fees`: the estimate, or
   * the last offer bumped by `bumpPercent`, whichever is higher, never above `maxFeePerGasCap`).
   */
  resubmitAfterMs: number;
  /** Fee rules of each offer (the batch submitter's, ADR 0154); default `defaultFeeOptions`. */
  fees?: FeeOptions;
};

export type RotationSubmitterModules = {
  /** This node's TSS rotation waiting for L1 (TssService.rotation()). */
  rotation(): PendingRotation | undefined;
  /** The old group key's signature over `digest` (context kind "rotation"), in a form the inbox accepts. */
  sign(digest: Hex, newKey: Hex): Promise<Hex>;
  /** Whether this node should post the rotation away from L1 key epoch `epoch` now. */
  turn(epoch: bigint): boolean;
  /** False while another transaction of the same L1 account is in flight (the batch submitter's). */
  canSend?(): boolean;
  logger?: Logger;
};

type InFlight = {
  from: Hex;
  to: Hex;
  /** The inbox's key epoch the signature is bound to (decimal). */
  l1Epoch: string;
  signature: Hex;
  nonce: number;
  hashes: Hex[];
  /** The last offer's fees; absent in a state file written before they were saved. */
  fees?: SavedFees;
  /** Gas limit of the first offer (decimal), reused by replacements; absent in older state files. */
  gas?: string;
  sentAtMs: number;
};
type State = { version: 1; inFlight?: InFlight };

export type RotationTick =
  | { action: "idle"; why: string }
  | { action: "sent" | "replaced"; to: Hex; hash: Hex }
  | { action: "waiting"; to: Hex }
  | { action: "landed"; to: Hex; byOther: boolean }
  | { action: "dropped"; to: Hex; why: string };

/**
 * Posts `BatchInbox.rotateGroupKey(newKey, sig)` exactly once per rotation (ADR 0159). Each tick
 * reads the inbox's key and epoch; when this node's TSS has a rotation from the key L1 has and
 * it is this node's turn, the old key signs `rotationDigest(epoch, newKey)` and the node sends it.
 * The rotation in flight (signature, nonce, hashes, last offer's fees) is saved before the send,
 * so a restart resumes the same transaction (a replacement bumps the saved offer); the inbox's
 * epoch binding makes a second submitter's copy revert.
 * Done once the inbox's key is the new one (shares switch later, on the confirmed
 * `GroupKeyRotated`); an L1 reorg that undoes it makes the next tick post it again.
 */
export class RotationSubmitter {
  private readonly client: PublicClient;
  private readonly wallet: WalletClient;
  private readonly path: string;
  private readonly log: Logger;
  private readonly fees: FeeOptions;
  private state: State;
  private signing = false;
  private lastIdle: string | undefined;

  private readonly opts: RotationSubmitterOptions;
  private readonly m: RotationSubmitterModules;

  constructor(opts: RotationSubmitterOptions, m: RotationSubmitterModules) {
    this.opts = opts;
    this.m = m;
    this.fees = opts.fees ?? defaultFeeOptions;
    ({ client: this.client, wallet: this.wallet } = l1PosterClients({ ...opts, retryCount: 0 }));
    this.log = (m.logger ?? createNoopLogger()).child({ module: "rotation" });
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.path = join(opts.stateDir, "submitter.json");
    this.state = existsSync(this.path)
      ? (JSON.parse(readFileSync(this.path, "utf8")) as State)
      : { version: 1 };
  }

  /** Signing or sending a rotation now: the batch signer waits (one nonce sequence, one key change). */
  get active(): boolean {
    return this.signing || this.state.inFlight !== undefined;
  }

  async tick(): Promise<RotationTick> {
    const l1 = await readInboxKey(this.client, this.opts.inbox);
    const f = this.state.inFlight;
    if (f) return this.follow(f, l1);
    const r = this.m.rotation();
    if (!r) return { action: "idle", why: "no rotation" };
    const from = r.from.toLowerCase();
    const to = r.to.toLowerCase() as Hex;
    if (l1.groupKey === to) return this.idle("on L1; shares switch on the confirmed GroupKeyRotated");
    if (l1.groupKey !== from)
      return this.idle(`L1 has key ${l1.groupKey}, not the one this rotation starts from`);
    if (!this.m.turn(l1.epoch)) return { action: "idle", why: "not this node's turn" };
    if (this.m.canSend && !this.m.canSend()) return { action: "idle", why: "a batch is in flight" };
    this.signing = true;
    try {
      this.log.info("key rotation signing", { from, to, l1Epoch: l1.epoch.toString() });
      const digest = rotationDigest(
        { l1ChainId: this.opts.l1ChainId, address: this.opts.inbox },
        l1.epoch,
        to,
      );
      const signature = await this.m.sign(digest, to);
      const now = await readInboxKey(this.client, this.opts.inbox);
      if (now.groupKey !== l1.groupKey || now.epoch !== l1.epoch)
        return { action: "idle", why: "the inbox key changed while signing" };
      if (this.m.canSend && !this.m.canSend()) return { action: "idle", why: "a batch is in flight" };
      const nonce = await this.client.getTransactionCount({
        address: this.wallet.account!.address,
        blockTag: "pending",
      });
      const next: InFlight = {
        from,
        to,
        l1Epoch: l1.epoch.toString(),
        signature,
        nonce,
        hashes: [],
        sentAtMs: 0,
      };
      this.save({ version: 1, inFlight: next }); // before the send: a restart resumes this nonce
      return await this.send(next, false);
    } finally {
      this.signing = false;
    }
  }

  private idle(why: string): RotationTick {
    if (why !== this.lastIdle) this.log.info("key rotation waits", { why });
    this.lastIdle = why;
    return { action: "idle", why };
  }

  private async follow(f: InFlight, l1: InboxKeyState): Promise<RotationTick> {
    const receipts = await Promise.all(
      f.hashes.map((hash) => this.client.getTransactionReceipt({ hash }).catch(() => undefined)),
    );
    const receipt = receipts.find((r) => r !== undefined);
    if (l1.groupKey === f.to) {
      const ours = receipt?.status === "success";
      this.save({ version: 1 });
      this.log.info("key rotation landed on L1", {
        from: f.from,
        to: f.to,
        l1Epoch: l1.epoch.toString(),
        byOther: !ours,
        gasUsed: ours ? receipt.gasUsed.toString() : undefined,
      });
      return { action: "landed", to: f.to, byOther: !ours };
    }
    if (l1.groupKey !== f.from || l1.epoch.toString() !== f.l1Epoch)
      return this.drop(f, `the inbox moved to key ${l1.groupKey} at epoch ${l1.epoch}`);
    if (receipt?.status === "reverted")
      return this.drop(f, `transaction ${receipt.transactionHash} reverted`);
    if (receipt) return { action: "waiting", to: f.to }; // mined; the inbox read raced it
    const used = await this.client.getTransactionCount({
      address: this.wallet.account!.address,
      blockTag: "latest",
    });
    if (used > f.nonce) return this.drop(f, `nonce ${f.nonce} was used by another transaction`);
    if (f.hashes.length > 0 && Date.now() - f.sentAtMs < this.opts.resubmitAfterMs)
      return { action: "waiting", to: f.to };
    return this.send(f, f.hashes.length > 0);
  }

  private drop(f: InFlight, why: string): RotationTick {
    this.save({ version: 1 });
    this.log.warn("key rotation transaction dropped", { to: f.to, why });
    return { action: "dropped", to: f.to, why };
  }

  private async send(f: InFlight, replace: boolean): Promise<RotationTick> {
    const offer = await offerFees(this.client, f, this.fees);
    const account = this.wallet.account!;
    const data = encodeFunctionData({
      abi: BatchInboxArtifact.abi,
      functionName: "rotateGroupKey",
      args: [f.to, f.signature],
    });
    const gas = await gasLimit(this.client, f.gas, { account, to: this.opts.inbox, data });
    const hash = await this.wallet.sendTransaction({
      account,
      chain: this.wallet.chain,
      to: this.opts.inbox,
      data,
      nonce: f.nonce,
      gas,
      maxFeePerGas: offer.maxFeePerGas,
      maxPriorityFeePerGas: offer.maxPriorityFeePerGas,
    });
    const next: InFlight = {
      ...f,
      hashes: [...f.hashes, hash],
      fees: offer.saved,
      gas: gas.toString(),
      sentAtMs: Date.now(),
    };
    this.save({ version: 1, inFlight: next });
    this.log.info(replace ? "key rotation transaction replaced" : "key rotation transaction sent", {
      to: f.to,
      l1Epoch: f.l1Epoch,
      hash,
      nonce: f.nonce,
      maxFeePerGas: offer.saved.maxFeePerGas,
      maxPriorityFeePerGas: offer.saved.maxPriorityFeePerGas,
    });
    return { action: replace ? "replaced" : "sent", to: f.to, hash };
  }

  private save(s: State): void {
    this.state = s;
    writeFileAtomic(this.path, `${JSON.stringify(s)}\n`);
  }
}

/** Runs `tick` every `pollMs` (one at a time); `stop` waits for the tick under way. */
export function runRotationSubmitter(
  s: RotationSubmitter,
  pollMs: number,
  log: Logger,
): { stop(): Promise<void> } {
  return runPollLoop("rotation", () => s.tick(), pollMs, log);
}
