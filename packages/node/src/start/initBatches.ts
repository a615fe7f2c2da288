import { join } from "node:path";
import {
  BatchDataKind,
  BatchSubmitter,
  type BatchTip,
  createSubmitterMetrics,
  defaultBatchSubmitterOptions,
  headerToJson,
  inboxTipReader,
  submitterTurn,
} from "@dseq/batch-submitter";
import { bytesToHex, errorMessage, type Hex, hexToBytes, type Logger, type Metrics } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { l1CompactSignatureBytes } from "@dseq/mpc-tss";
import type { TssHost } from "@dseq/p2p";
import type { RewardCheckpoint, RotationSchedule } from "@dseq/sequencer-rotation";
import { createPublicClient, http, type PublicClient } from "viem";
import type { ChainSpec } from "../chainSpec.ts";
import type { NodeConfig } from "../config.ts";
import { readKeyFile } from "../keyfile.ts";
import { batchApprove } from "../tss/batchApprove.ts";
import { chainCommittedBlocks } from "../tss/chainBlocks.ts";
import { initTss, type NodeTss } from "../tss/initTss.ts";
import { approveByKind } from "../tss/rewardsApprove.ts";
import { rewardsTurn } from "../tss/rewardsSubmitter.ts";
import {
  approveRotationOr,
  ROTATION_CONTEXT_KIND,
  readInboxKey,
  rotationApprove,
} from "../tss/rotationApprove.ts";
import { RotationSubmitter, runRotationSubmitter } from "../tss/rotationSubmitter.ts";
import type { SpanLike } from "../tss/scheduleValidatorSource.ts";
import { NodeTssError, NodeTssErrorCode } from "../tss/tssErrors.ts";
import type { TssService, TssStatus } from "../tss/tssService.ts";
import { initRewards } from "./initRewards.ts";
import type { Started } from "./started.ts";

export type BatchesStatus = TssStatus & {
  configured: true;
  /** This node cuts and posts batches (a `batches.submit` section). */
  submitter: boolean;
  /** The inbox's last batch and last L2 block as last read from L1 (undefined before the first read). */
  inbox?: { batchIndex: string; lastBlock: string };
  /** Committed blocks not yet in a batch on L1. */
  blocksBehind?: number;
  /** More than twice the cut size is waiting: batches are not landing. */
  behind: boolean;
  /** The batch this node is posting now. */
  inFlight?: { batchIndex: string; firstBlock: string; lastBlock: string };
};

export type NodeBatches = {
  tss: NodeTss;
  submitter: BatchSubmitter | undefined;
  /** From the commit path: `outcome.spanStarted`. */
  spanStarted(span: SpanLike): void;
  /** From the commit path: `outcome.checkpoint` (reward checkpoints, ADR 0158). */
  checkpointCut(cp: RewardCheckpoint): void;
  status(): BatchesStatus;
};

export type InitBatchesModules = {
  chain: Chain;
  schedule: () => RotationSchedule;
  /** The node's p2p host (TssTransport runs on it). */
  host: TssHost;
  /** The sequencer key. Never logged. */
  privateKey: Uint8Array;
  /** The keystore password: seals the TSS shares and opens the L1 keystore. Never logged. */
  password: string;
  address: Hex;
  nextHeight: () => number;
  /** The chain spec: lets the rewards module refill checkpoints by replaying the chain. */
  spec?: ChainSpec;
  logger: Logger;
  metrics: Metrics;
};

const TIP_POLL_MS = 5_000;

/**
 * Batches in the running node (ADR 0154): the TSS service over p2p (every validator signs the
 * batches it can rebuild from its own chain) and, with `batches.submit`, the batch submitter
 * (cuts, signs with the group, posts from its own L1 account on its own timer: block production
 * never waits on L1 or on signing). Undefined without a `batches` section.
 */
export async function initBatches(
  config: NodeConfig,
  l2ChainId: bigint,
  m: InitBatchesModules,
): Promise<Started<NodeBatches> | undefined> {
  const cfg = config.batches;
  const l1 = config.l1;
  if (!cfg || !l1 || config.mode !== "validator") return undefined;
  const log = m.logger.child({ module: "batches" });
  const rpcUrl = l1.endpoints.find((e) => /^https?:\/\//.test(e)) as string;
  const inbox = l1.batchInbox as Hex;
  const domain = { l1ChainId: l1.chainId, address: inbox };
  const readTip = inboxTipReader(rpcUrl, inbox);
  const source = chainCommittedBlocks(m.chain);
  const metrics = createSubmitterMetrics(m.metrics);
  let lastTip: BatchTip | undefined;
  const tip = async (): Promise<BatchTip> => {
    lastTip = await readTip();
    return lastTip;
  };

  const rewards = initRewards(config, m);
  const l1Client = createPublicClient({ transport: http(rpcUrl, { timeout: 5_000, retryCount: 0 }) });
  const inboxKey = () => readInboxKey(l1Client as PublicClient, inbox);
  let svc: TssService | undefined;
  const tss = await initTss(
    {
      chainId: l2ChainId,
      dataDir: config.dataDir,
      password: m.password,
      approve: approveRotationOr(
        approveByKind(
          batchApprove({
            chainId: l2ChainId,
            domain,
            source,
            tip,
            onRefusal: (reason) => metrics.refusals.inc({ reason }),
            logger: log,
          }),
          rewards.approve,
        ),
        // Key rotation shares (ADR 0159): only the rotation this node's own TSS expects.
        rotationApprove({
          domain,
          rotation: () => svc?.rotation(),
          inboxKey,
          onRefusal: (reason) => metrics.refusals.inc({ reason: `rotation_${reason}` }),
          logger: log,
        }),
      ),
      signDeadlineMs: cfg.signDeadlineMs,
    },
    { host: m.host, privateKey: m.privateKey, schedule: m.schedule, logger: log, metrics: m.metrics },
  );
  const service = tss.module.service;
  svc = service;
  try {
    await rewards.startSubmitter(service);
  } catch (err) {
    await tss.stop();
    throw err;
  }

  const batchSubmitters = () =>
    m
      .schedule()
      .validatorSetAt(m.nextHeight())
      .validators.map((v) => v.address);
  let submitter: BatchSubmitter | undefined;
  let rotations: RotationSubmitter | undefined;
  let rotationLoop: { stop(): Promise<void> } | undefined;
  const sub = cfg.submit;
  if (sub) {
    let l1Key: Uint8Array;
    try {
      l1Key = await readKeyFile(sub.l1Keystore, m.password);
    } catch (err) {
      await rewards.stop();
      await tss.stop();
      throw err;
    }
    const kind = sub.kind === "blobs" ? BatchDataKind.blobs : BatchDataKind.calldata;
    submitter = new BatchSubmitter(
      {
        ...defaultBatchSubmitterOptions,
        rpcUrl,
        l1ChainId: l1.chainId,
        inbox,
        l2ChainId,
        privateKey: bytesToHex(l1Key),
        stateDir: join(config.dataDir, "batch"),
        dataKind: kind,
        confirmations: sub.confirmations,
        pollMs: sub.pollMs,
        resubmitAfterMs: sub.resubmitAfterMs,
        cutter: {
          ...defaultBatchSubmitterOptions.cutter,
          maxBlocks: sub.maxBlocks,
          maxAgeSeconds: sub.maxAgeSeconds,
        },
      },
      {
        source,
        signer: {
          async sign(digest, { header }) {
            // Only under the key L1 verifies with now, never while this node posts a rotation (ADR 0159).
            if (rotations?.active)
              throw new NodeTssError(NodeTssErrorCode.NoGroupKey, "a key rotation is being posted");
            if ((await inboxKey()).groupKey !== service.groupKey())
              throw new NodeTssError(NodeTssErrorCode.NoGroupKey, "L1's group key is not confirmed here yet");
            log.info("batch signing", {
              batchIndex: header.batchIndex,
              firstBlock: header.firstBlock,
              lastBlock: header.lastBlock,
            });
            // This node leads its own request (only the submitter asks); its own signer answers too.
            const s = await service.sign(
              hexToBytes(digest),
              { kind: "batch", header: headerToJson(header) },
              { leader: service.self },
            );
            // rx || ry || z: the form the inbox checks cheapest (4,650 gas, ADR 0156).
            return bytesToHex(l1CompactSignatureBytes(s.l1));
          },
        },
        turn: submitterTurn({
          submitters: batchSubmitters,
          self: m.address,
          takeoverMs: sub.takeoverMs,
        }),
        logger: log,
        metrics: m.metrics,
      },
    );
    const batches = submitter;
    rotations = new RotationSubmitter(
      {
        rpcUrl,
        l1ChainId: l1.chainId,
        inbox,
        privateKey: bytesToHex(l1Key),
        stateDir: join(config.dataDir, "rotation"),
        resubmitAfterMs: sub.resubmitAfterMs,
      },
      {
        rotation: () => service.rotation(),
        async sign(digest, newKey) {
          const s = await service.sign(
            hexToBytes(digest),
            { kind: ROTATION_CONTEXT_KIND, newKey },
            { leader: service.self },
          );
          return bytesToHex(l1CompactSignatureBytes(s.l1));
        },
        turn: rewardsTurn({ submitters: batchSubmitters, self: m.address, takeoverMs: sub.takeoverMs }),
        canSend: () => batches.inFlight === undefined,
        logger: log,
      },
    );
    l1Key.fill(0);
    submitter.start();
    rotationLoop = runRotationSubmitter(rotations, sub.pollMs, log);
    log.info("batch submitter started", { inbox, kind: sub.kind, confirmations: sub.confirmations });
  }

  // Every signer follows the inbox tip for /health (batches behind?).
  const poll = setInterval(() => {
    void tip().catch((err) => log.debug("inbox tip read failed", { err: errorMessage(err) }));
  }, TIP_POLL_MS);
  const behindLimit = 2 * (sub?.maxBlocks ?? 150);

  const status = (): BatchesStatus => {
    const head = m.chain.head().header.number;
    const f = submitter?.inFlight;
    const blocksBehind = lastTip && head > lastTip.lastBlock ? Number(head - lastTip.lastBlock) : 0;
    return {
      configured: true,
      ...service.status(),
      submitter: submitter !== undefined,
      ...(lastTip
        ? { inbox: { batchIndex: lastTip.batchIndex.toString(), lastBlock: lastTip.lastBlock.toString() } }
        : {}),
      ...(lastTip ? { blocksBehind } : {}),
      behind: blocksBehind > behindLimit,
      ...(f
        ? {
            inFlight: {
              batchIndex: f.header.batchIndex.toString(),
              firstBlock: f.header.firstBlock.toString(),
              lastBlock: f.header.lastBlock.toString(),
            },
          }
        : {}),
    };
  };

  return {
    module: {
      tss: tss.module,
      submitter,
      spanStarted: (s) => tss.module.spanStarted(s),
      checkpointCut: (cp) => rewards.checkpointCut(cp),
      status,
    },
    stop: async () => {
      clearInterval(poll);
      await rewards.stop();
      await rotationLoop?.stop();
      await submitter?.stop();
      await tss.stop();
    },
  };
}
