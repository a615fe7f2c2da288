import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  defaultFeeOptions,
  type FeeOptions,
  type SubmitterTurnOptions,
  submitterTurn,
} from "@dseq/batch-submitter";
import { createNoopLogger, type Hex, type Logger } from "@dseq/common";
import { LockingPoolArtifact } from "@dseq/l1-contracts";
import type { RewardCheckpoint } from "@dseq/sequencer-rotation";
import { encodeFunctionData, type PublicClient, type WalletClient } from "viem";
import { writeFileAtomic } from "../atomicFile.ts";
import { gasLimit, l1PosterClients, offerFees, type SavedFees } from "./l1Poster.ts";
import type { RewardsTip } from "./rewardsApprove.ts";
import {
  checkpointToJson,
  type L1RewardCheckpoint,
  rewardsDigest,
  toL1Checkpoint,
} from "./rewardsCheckpoint.ts";

/** LockingPool's ABI (l1-contracts' committed artifact): reads, submitRewards, withdrawRewards. */
export const lockingPoolRewardsAbi = LockingPoolArtifact.abi;

/** The pool's reward state at L1's latest block. */
export async function readRewardsTip(client: PublicClient, pool: Hex): Promise<RewardsTip> {
  const [nextCheckpointId, lastRewardBlock] = await Promise.all([
    client.readContract({ address: pool, abi: lockingPoolRewardsAbi, functionName: "nextCheckpointId" }),
    client.readContract({ address: pool, abi: lockingPoolRewardsAbi, functionName: "lastRewardBlock" }),
  ]);
  return { nextCheckpointId, lastRewardBlock };
}

export type RewardsSubmitterOptions = {
  rpcUrl: string;
  l1ChainId: number;
  pool: Hex;
  /** The funded L1 account that sends submitRewards (not the batch account: two senders, one nonce). */
  privateKey: Hex;
  /** `<dataDir>/rewards`: the checkpoint in flight survives a restart here. */
  stateDir: string;
  confirmations: number;
  /**
   * Replace a transaction not mined after this long (same nonce; fees by `fees`: the estimate, or
   * the last offer bumped by `bumpPercent`, whichever is higher, never above `maxFeePerGasCap`).
   */
  resubmitAfterMs: number;
  /** Fee rules of each offer (the batch submitter's, ADR 0154); default `defaultFeeOptions`. */
  fees?: FeeOptions;
};

export type RewardsSubmitterModules = {
  /** Checkpoint `index` as this node's committed chain cut it. */
  checkpoint(index: number): Promise<RewardCheckpoint | undefined>;
  /** The group signature over the digest, in a form LockingPool's verifier accepts. */
  sign(digest: Hex, cp: L1RewardCheckpoint): Promise<Hex>;
  /** Whether this node should post checkpoint `next` now (rewardsTurn). */
  turn(next: bigint): boolean;
  onPosted?(cp: L1RewardCheckpoint, byOther: boolean): void;
  logger?: Logger;
};

type InFlight = {
  checkpoint: ReturnType<typeof checkpointToJson>;
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

export type RewardsTick =
  | { action: "idle"; why: string }
  | { action: "sent" | "replaced"; checkpointId: bigint; hash: Hex }
  | { action: "waiting"; checkpointId: bigint }
  | { action: "posted"; checkpointId: bigint; byOther: boolean }
  | { action: "dropped"; checkpointId: bigint; why: string };

/**
 * Posts reward checkpoints to LockingPool.submitRewards exactly once (ADR 0158). Each tick reads
 * the pool's `nextCheckpointId`; if this node's chain has cut that checkpoint and it is this
 * node's turn, it asks the group to sign and sends it. The checkpoint in flight (signature,
 * nonce, hashes, last offer's fees) is saved before the send, so a restart resumes the same
 * transaction (same nonce; a replacement bumps the saved offer) rather than sending a second
 * one; the pool's id check makes a race between two submitters harmless (the later one reverts).
 */
export class RewardsSubmitter {
  private readonly client: PublicClient;
  private readonly wallet: WalletClient;
  private readonly path: string;
  private readonly log: Logger;
  private readonly fees: FeeOptions;
  private state: State;

  private readonly opts: RewardsSubmitterOptions;
  private readonly m: RewardsSubmitterModules;

  constructor(opts: RewardsSubmitterOptions, m: RewardsSubmitterModules) {
    this.opts = opts;
    this.m = m;
    this.fees = opts.fees ?? defaultFeeOptions;
    ({ client: this.client, wallet: this.wallet } = l1PosterClients(opts));
    this.log = (m.logger ?? createNoopLogger()).child({ module: "rewards" });
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.path = join(opts.stateDir, "submitter.json");
    this.state = existsSync(this.path)
      ? (JSON.parse(readFileSync(this.path, "utf8")) as State)
      : { version: 1 };
  }

  get inFlight(): bigint | undefined {
    const f = this.state.inFlight;
    return f ? BigInt(f.checkpoint.checkpointId) : undefined;
  }

  async tick(): Promise<RewardsTick> {
    const tip = await readRewardsTip(this.client, this.opts.pool);
    if (this.state.inFlight) return this.follow(this.state.inFlight, tip);
    const next = tip.nextCheckpointId;
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) return { action: "idle", why: "checkpoint id out of range" };
    const own = await this.m.checkpoint(Number(next));
    if (!own) return { action: "idle", why: `checkpoint ${next} not cut yet` };
    const cp = toL1Checkpoint(own);
    if (cp.fromBlock !== tip.lastRewardBlock + 1n) {
      this.log.error("reward checkpoint does not continue L1's", {
        checkpointId: next.toString(),
        fromBlock: cp.fromBlock.toString(),
        l1LastRewardBlock: tip.lastRewardBlock.toString(),
      });
      return { action: "idle", why: "range differs from L1" };
    }
    if (!this.m.turn(next)) return { action: "idle", why: "not this node's turn" };
    this.log.info("reward checkpoint signing", {
      checkpointId: next.toString(),
      fromBlock: cp.fromBlock.toString(),
      toBlock: cp.toBlock.toString(),
      entries: cp.seqIds.length,
    });
    const signature = await this.m.sign(
      rewardsDigest({ l1ChainId: this.opts.l1ChainId, pool: this.opts.pool }, cp),
      cp,
    );
    // Another submitter may have landed it while the group signed.
    if ((await readRewardsTip(this.client, this.opts.pool)).nextCheckpointId !== next)
      return { action: "idle", why: "landed while signing" };
    const nonce = await this.client.getTransactionCount({
      address: this.wallet.account!.address,
      blockTag: "pending",
    });
    const f: InFlight = { checkpoint: checkpointToJson(cp), signature, nonce, hashes: [], sentAtMs: 0 };
    this.save({ version: 1, inFlight: f }); // before the send: a restart resumes this nonce
    return this.send(f, false);
  }

  private async follow(f: InFlight, tip: RewardsTip): Promise<RewardsTick> {
    const id = BigInt(f.checkpoint.checkpointId);
    const receipts = await Promise.all(
      f.hashes.map((hash) => this.client.getTransactionReceipt({ hash }).catch(() => undefined)),
    );
    const receipt = receipts.find((r) => r !== undefined);
    if (tip.nextCheckpointId > id) {
      const ours = receipt?.status === "success";
      if (ours) {
        const head = await this.client.getBlockNumber({ cacheTime: 0 });
        if (head - receipt.blockNumber + 1n < BigInt(this.opts.confirmations))
          return { action: "waiting", checkpointId: id };
      }
      this.save({ version: 1 });
      const cp = fromJson(f);
      this.m.onPosted?.(cp, !ours);
      this.log.info("reward checkpoint posted", {
        checkpointId: id.toString(),
        fromBlock: f.checkpoint.fromBlock,
        toBlock: f.checkpoint.toBlock,
        byOther: !ours,
        gasUsed: ours ? receipt.gasUsed.toString() : undefined,
      });
      return { action: "posted", checkpointId: id, byOther: !ours };
    }
    if (receipt?.status === "reverted")
      return this.drop(f, `transaction ${receipt.transactionHash} reverted`);
    if (receipt) return { action: "waiting", checkpointId: id }; // mined; the pool read raced it
    const used = await this.client.getTransactionCount({
      address: this.wallet.account!.address,
      blockTag: "latest",
    });
    if (used > f.nonce) return this.drop(f, `nonce ${f.nonce} was used by another transaction`);
    if (f.hashes.length > 0 && Date.now() - f.sentAtMs < this.opts.resubmitAfterMs)
      return { action: "waiting", checkpointId: id };
    return this.send(f, f.hashes.length > 0);
  }

  private drop(f: InFlight, why: string): RewardsTick {
    this.save({ version: 1 });
    this.log.warn("reward checkpoint transaction dropped", { checkpointId: f.checkpoint.checkpointId, why });
    return { action: "dropped", checkpointId: BigInt(f.checkpoint.checkpointId), why };
  }

  private async send(f: InFlight, replace: boolean): Promise<RewardsTick> {
    const cp = fromJson(f);
    const offer = await offerFees(this.client, f, this.fees);
    const account = this.wallet.account!;
    const data = encodeFunctionData({
      abi: lockingPoolRewardsAbi,
      functionName: "submitRewards",
      args: [cp.checkpointId, cp.fromBlock, cp.toBlock, [...cp.seqIds], [...cp.amounts], f.signature],
    });
    const gas = await gasLimit(this.client, f.gas, { account, to: this.opts.pool, data });
    const hash = await this.wallet.sendTransaction({
      account,
      chain: this.wallet.chain,
      to: this.opts.pool,
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
    this.log.info(replace ? "reward checkpoint transaction replaced" : "reward checkpoint transaction sent", {
      checkpointId: cp.checkpointId.toString(),
      hash,
      nonce: f.nonce,
      maxFeePerGas: offer.saved.maxFeePerGas,
      maxPriorityFeePerGas: offer.saved.maxPriorityFeePerGas,
    });
    return { action: replace ? "replaced" : "sent", checkpointId: cp.checkpointId, hash };
  }

  private save(s: State): void {
    this.state = s;
    writeFileAtomic(this.path, `${JSON.stringify(s)}\n`);
  }
}

function fromJson(f: InFlight): L1RewardCheckpoint {
  const c = f.checkpoint;
  return {
    checkpointId: BigInt(c.checkpointId),
    fromBlock: BigInt(c.fromBlock),
    toBlock: BigInt(c.toBlock),
    seqIds: c.seqIds.map(BigInt),
    amounts: c.amounts.map(BigInt),
  };
}

/**
 * Whose turn checkpoint (or key epoch) `next` is: the batch rule of ADR 0155 (`submitterTurn`),
 * with `next` in place of the batch index after the tip.
 */
export function rewardsTurn(o: SubmitterTurnOptions): (next: bigint) => boolean {
  const turn = submitterTurn(o);
  return (next) => turn({ batchIndex: next - 1n });
}
