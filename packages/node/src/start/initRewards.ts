import { join } from "node:path";
import {
  bytesToHex,
  type CounterMetric,
  errorMessage,
  type Hex,
  hexToBytes,
  type Logger,
  type Metrics,
} from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { type ApproveFn, l1CompactSignatureBytes } from "@dseq/mpc-tss";
import {
  createRotationParams,
  createRotationSchedule,
  type RewardCheckpoint,
  type RotationSchedule,
} from "@dseq/sequencer-rotation";
import { createPublicClient, http, type PublicClient } from "viem";
import type { ChainSpec } from "../chainSpec.ts";
import type { NodeConfig } from "../config.ts";
import { readKeyFile } from "../keyfile.ts";
import {
  applicableStakeChanges,
  applyToSchedule,
  committedEntries,
  decodeCertificate,
  stakeRecordsOf,
} from "../rotation.ts";
import { runPollLoop } from "../tss/l1Poster.ts";
import { rewardsApprove } from "../tss/rewardsApprove.ts";
import { checkpointToJson, REWARDS_CONTEXT_KIND } from "../tss/rewardsCheckpoint.ts";
import { RewardCheckpointStore } from "../tss/rewardsStore.ts";
import { RewardsSubmitter, readRewardsTip, rewardsTurn } from "../tss/rewardsSubmitter.ts";
import type { TssService } from "../tss/tssService.ts";

export type RewardsModules = {
  chain: Chain;
  schedule: () => RotationSchedule;
  /** To refill checkpoints missing from the store by replaying the chain (none: no refill). */
  spec?: ChainSpec;
  password: string;
  address: Hex;
  nextHeight: () => number;
  logger: Logger;
  metrics: Metrics;
};

export type NodeRewards = {
  /** The signer policy for `kind: "rewards"` requests (wired into the TSS service's approve). */
  approve: ApproveFn;
  /** From the commit path: `outcome.checkpoint`. */
  checkpointCut(cp: RewardCheckpoint): void;
  /** With a `rewards` section: posts checkpoints with the group's signatures. */
  startSubmitter(service: TssService): Promise<void>;
  stop(): Promise<void>;
};

type RewardsMetrics = { posted: CounterMetric<"by">; refusals: CounterMetric<"reason"> };

function rewardsMetrics(m: Metrics): RewardsMetrics {
  return {
    posted: m.counter({
      name: "dseq_rewards_checkpoints_posted_total",
      help: "Reward checkpoints seen landing on L1 after this node sent them (by=self) or another did (by=other)",
      labelNames: ["by"],
    }),
    refusals: m.counter({
      name: "dseq_rewards_refusals_total",
      help: "Reward checkpoint shares this signer refused, by reason",
      labelNames: ["reason"],
    }),
  };
}

/**
 * Reward checkpoints in the running node (ADR 0158): every validator that signs batches also
 * signs reward checkpoints it rebuilds from its own ledger (`rewardsApprove`); one with a
 * `rewards` section also posts them to LockingPool.submitRewards from its own L1 account on its
 * own timer (RewardsSubmitter). Checkpoints are cut by sequencer-rotation (every
 * `checkpointIntervalBlocks` of the chain spec) and kept in `<dataDir>/rewards/checkpoints`.
 */
export function initRewards(config: NodeConfig, m: RewardsModules): NodeRewards {
  const l1 = config.l1!;
  const log = m.logger.child({ module: "rewards" });
  const metrics = rewardsMetrics(m.metrics);
  const rpcUrl = l1.endpoints.find((e) => /^https?:\/\//.test(e)) as string;
  const pool = l1.lockingPool as Hex;
  const domain = { l1ChainId: l1.chainId, pool };
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000 }) }) as PublicClient;
  const store = RewardCheckpointStore.open(join(config.dataDir, "rewards", "checkpoints"));

  // A checkpoint cut before a crash but not written: replay the chain once (in the background).
  const cut = m.schedule().snapshot().ledger.checkpointIndex;
  const missing = store.missing(cut);
  let filled: Promise<void> = Promise.resolve();
  if (missing.length > 0 && m.spec) {
    const spec = m.spec;
    log.info("refilling reward checkpoints from the chain", { missing: missing.length });
    filled = replayCheckpoints(spec, m.chain, cut)
      .then((all) => {
        for (const cp of all) store.put(cp);
      })
      .catch((err) => log.error("reward checkpoint refill failed", { err: errorMessage(err) }));
  }
  const checkpoint = async (i: number) => {
    if (!store.get(i)) await filled;
    return store.get(i);
  };

  const approve = rewardsApprove({
    domain,
    checkpoint,
    tip: () => readRewardsTip(client, pool),
    onRefusal: (reason) => metrics.refusals.inc({ reason }),
    logger: log,
  });

  let loop: { stop(): Promise<void> } | undefined;

  return {
    approve,
    checkpointCut(cp) {
      try {
        store.put(cp);
        log.info("reward checkpoint cut", {
          checkpointId: cp.index,
          fromBlock: cp.fromHeight,
          toBlock: cp.toHeight,
          total: cp.total.toString(),
        });
      } catch (err) {
        log.error("reward checkpoint not stored (refilled at the next start)", { err: errorMessage(err) });
      }
    },
    async startSubmitter(service) {
      const r = config.rewards;
      if (!r) return;
      const key = await readKeyFile(r.l1Keystore, m.password);
      const submitter = new RewardsSubmitter(
        {
          rpcUrl,
          l1ChainId: l1.chainId,
          pool,
          privateKey: bytesToHex(key),
          stateDir: join(config.dataDir, "rewards"),
          confirmations: r.confirmations,
          resubmitAfterMs: r.resubmitAfterMs,
        },
        {
          checkpoint,
          async sign(digest, cp) {
            // This node leads its own request; the TSS path and coordinator fallback are the batches'.
            const s = await service.sign(
              hexToBytes(digest),
              { kind: REWARDS_CONTEXT_KIND, checkpoint: checkpointToJson(cp) },
              { leader: service.self },
            );
            return bytesToHex(l1CompactSignatureBytes(s.l1));
          },
          turn: rewardsTurn({
            submitters: () =>
              m
                .schedule()
                .validatorSetAt(m.nextHeight())
                .validators.map((v) => v.address),
            self: m.address,
            takeoverMs: r.takeoverMs,
          }),
          onPosted: (_cp, byOther) => metrics.posted.inc({ by: byOther ? "other" : "self" }),
          logger: m.logger,
        },
      );
      key.fill(0);
      loop = runPollLoop("rewards", () => submitter.tick(), r.pollMs, log);
      log.info("reward checkpoint submitter started", { pool, confirmations: r.confirmations });
    },
    async stop() {
      await loop?.stop();
      await filled;
    },
  };
}

/** The first `count` checkpoints, replayed from the committed chain as rebuildChainState does. */
async function replayCheckpoints(spec: ChainSpec, chain: Chain, count: number): Promise<RewardCheckpoint[]> {
  const genesis = await chain.getBlockByNumber(0n);
  if (!genesis) return [];
  const schedule = createRotationSchedule({
    params: createRotationParams({ ...spec.rotation, blockTimeSeconds: spec.blockTimeMs / 1000 }),
    genesis: {
      records: stakeRecordsOf(spec),
      hash: bytesToHex(genesis.hash()),
      timestamp: Number(genesis.header.timestamp),
    },
  });
  const out: RewardCheckpoint[] = [];
  const head = chain.head().header.number;
  for (let n = 1n; n <= head && out.length < count; n++) {
    const block = await chain.getBlockByNumber(n);
    const cert = await chain.getCommitCertificate(n);
    if (!block || !cert) break;
    const o = applyToSchedule(
      schedule,
      block.header.number,
      bytesToHex(block.hash()),
      block.header.extraData,
      decodeCertificate(cert).round,
      block.header.timestamp,
      applicableStakeChanges(schedule, committedEntries(block)).changes,
    );
    if (o.checkpoint) out.push(o.checkpoint);
  }
  return out;
}
