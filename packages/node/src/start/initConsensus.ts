import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Clock, Hex, Logger, Metrics } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import type { P2pHost } from "@dseq/p2p";
import {
  ConsensusDriver,
  type ConsensusMessage,
  createKeySigner,
  DoubleSignGuard,
  FileWal,
  fileGuardStore,
  Step,
} from "@dseq/pos-consensus";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import {
  type BlockFragment,
  decodeFragment,
  encodeFragment,
  isFragment,
  type SignedFragment,
} from "../blockStream.ts";
import {
  type ByzantineContext,
  type ByzantineOptions,
  byzantineBroadcast,
  byzantineStream,
  replayProposals,
  startGarbageGossip,
} from "../byzantine.ts";
import type { ChainSpec } from "../chainSpec.ts";
import { p2pBlockFetcher } from "../chainSync.ts";
import type { NodeConfig } from "../config.ts";
import {
  type CommittedInfo,
  createConsensusApp,
  defaultConsensusAppOptions,
  type NodeConsensusApp,
} from "../consensusApp.ts";
import { decodeConsensusEnvelope, encodeConsensusEnvelope } from "../consensusWire.ts";
import type { L1Feed } from "../l1Feed.ts";
import {
  createPreconfirmedState,
  createPreconfService,
  type PreconfirmedState,
  type PreconfService,
} from "../preconf/index.ts";
import { rotationValidatorSource } from "../rotation.ts";
import type { NodeMetrics } from "./nodeMetrics.ts";

/** Propose timeout when the round's proposer is not connected to this node at all. */
const UNREACHABLE_PROPOSER_TIMEOUT_MS = 300;

export type ConsensusDeps = {
  chain: Chain;
  pool: TxPool;
  schedule: RotationSchedule;
  p2p: P2pHost;
  l1?: { feed: L1Feed; nextEntry: bigint };
  /** This node's address, and whether it may sign (a validator in the set, or one that may join it). */
  address: Hex;
  sign: boolean;
  privateKey: Uint8Array;
  byzantine?: { options: ByzantineOptions; context: () => ByzantineContext };
  /** Whether a block fragment is worth forwarding (signed by a round-0 proposer someone follows). */
  judgeFragment: (f: SignedFragment) => "accept" | "ignore";
  onCommitted: (info: CommittedInfo) => void;
  nodeMetrics: NodeMetrics;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
};

export type Consensus = {
  driver: ConsensusDriver;
  app: NodeConsensusApp;
  /** Whether this node holds a signer (it votes once a height's set holds it). */
  signs: boolean;
  /** Preconfirmations: every stream fragment sent or accepted (ADR 0170), for RPC and evidence. */
  preconf: PreconfService;
  /** The head plus the preconfirmed prefix of the next height: the RPC's `pending` calls (ADR 0176). */
  preconfirmed: PreconfirmedState;
  /** Enters the height after the head: the last step of a start, once every port is bound. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * 6. Consensus: the WAL and the double-sign guard in `<dataDir>/consensus`, the application
 * (consensusApp), the driver, and gossip on the proposal and vote topics, judged by the driver
 * before it is forwarded. Nothing runs until `start()`: opening writes nothing.
 */
export async function initConsensus(
  config: NodeConfig,
  spec: ChainSpec,
  d: ConsensusDeps,
): Promise<Consensus> {
  const log = d.logger;
  const dir = join(config.dataDir, "consensus");
  mkdirSync(dir, { recursive: true });
  const wal = await FileWal.open(join(dir, "wal"), log.child({ module: "wal" }));
  const signer = d.sign ? createKeySigner(d.privateKey) : null;
  const guard = signer ? await DoubleSignGuard.open(fileGuardStore(join(dir, "last-signed.json"))) : null;
  const chainId = BigInt(spec.chainId);
  const nm = d.nodeMetrics;
  const byz = d.byzantine;
  // What this node streams is a preconfirmation too: recorded before it leaves (ADR 0170).
  // A node that builds the stream (its own block, or its build of the proposer's) publishes
  // each fragment with the receipts its build gave (ADR 0175).
  const fragmentEvidence = d.metrics.counter({
    name: "dseq_preconf_fragment_evidence_total",
    help: "conflicting signed fragments seen for one (height, round, seq): equivocation evidence (ADR 0171)",
  });
  const published = d.metrics.counter({
    name: "dseq_preconf_published_total",
    help: "preconfirmations (signed fragments) this node published to its subscribers",
  });
  const preconf = createPreconfService(
    {
      chainId,
      logger: log.child({ module: "preconf" }),
      onEvidence: () => fragmentEvidence.inc(),
      onPublished: () => published.inc(),
    },
    { awaitReceipts: signer !== null && config.consensus.continuousBuild },
  );
  const honestStream = {
    publish: (f: BlockFragment) => {
      const raw = encodeFragment(f, chainId, d.privateKey);
      preconf.own(raw);
      d.p2p.publish("proposal", raw).catch((err: unknown) => {
        log.debug("block fragment gossip failed", { err });
      });
    },
  };
  const app = createConsensusApp(
    {
      ...defaultConsensusAppOptions,
      blockTimeMs: spec.blockTimeMs,
      emptyBlocks: config.consensus.emptyBlocks,
      continuousBuild: config.consensus.continuousBuild,
      timeoutProposeMs: config.consensus.timeoutProposeMs,
      timeoutDeltaMs: config.consensus.timeoutDeltaMs,
      buildBudgetShare: config.consensus.buildBudgetShare,
      // A consensus rule from the chain spec; the same cap goes to l2-exec's builder.
      maxBlockBytes: spec.maxBlockBytes,
    },
    {
      chain: d.chain,
      pool: d.pool,
      schedule: d.schedule,
      self: signer ? d.address : undefined,
      clock: d.clock,
      logger: log.child({ module: "app" }),
      metrics: {
        build: (s) => nm.buildSeconds.observe(s),
        execute: (s) => nm.executeSeconds.observe(s),
        commit: (s) => nm.commitSeconds.observe(s),
        streamed: (result) => nm.streamed.inc({ result }),
      },
      ...(d.l1
        ? {
            l1: {
              queue: d.l1.feed.queue,
              nextEntry: d.l1.nextEntry,
              verifyWaitMs: config.l1?.verifyWaitMs ?? 1500,
            },
          }
        : {}),
      preconf: preconf.store,
      outcomes: preconf.outcomes,
      ...(signer
        ? { stream: byz ? byzantineStream(byz.options, byz.context(), honestStream) : honestStream }
        : {}),
      onCommitted: d.onCommitted,
      reachable: (validator) => d.p2p.peerOfValidator(validator) !== undefined,
    },
  );

  const broadcast = (msg: ConsensusMessage): void => {
    const kind = msg.type === "proposal" ? "proposal" : "vote";
    d.p2p.publish(kind, encodeConsensusEnvelope(msg)).catch((err: unknown) => {
      log.debug("consensus gossip failed", { type: msg.type, err });
    });
  };
  const validators = rotationValidatorSource(d.schedule);
  const driver = new ConsensusDriver(
    {
      chainId,
      timeouts: {
        propose: config.consensus.timeoutProposeMs,
        proposeDelta: config.consensus.timeoutDeltaMs,
        prevote: config.consensus.timeoutPrevoteMs,
        prevoteDelta: config.consensus.timeoutDeltaMs,
        precommit: config.consensus.timeoutPrecommitMs,
        precommitDelta: config.consensus.timeoutDeltaMs,
      },
    },
    {
      app,
      validators,
      // A proposer we hold no connection to (killed, partitioned) will not be heard from:
      // move to the next round after a short wait instead of the full propose timeout.
      adjustTimeout: (step, height, round, ms) => {
        if (step !== Step.Propose) return ms;
        const proposer = validators.forHeight(height);
        const who = "then" in proposer ? undefined : proposer.proposer(round);
        if (who === undefined || who === d.address || d.p2p.peerOfValidator(who) !== undefined) return ms;
        return Math.min(ms, UNREACHABLE_PROPOSER_TIMEOUT_MS);
      },
      network: {
        broadcast: byz ? byzantineBroadcast(byz.options, byz.context(), broadcast) : broadcast,
      },
      fetcher: p2pBlockFetcher(d.p2p, log.child({ module: "sync" })),
      wal,
      signer,
      guard,
      clock: d.clock,
      logger: log.child({ module: "consensus" }),
      metrics: d.metrics,
    },
  );

  // Gossip is judged before it is forwarded: the driver takes a message it accepts (signed by
  // a validator of its height, not seen before), and a reject lowers the sender's score.
  // Delivery happens in the judgement, so onMessage has nothing left to do. Before start() the
  // driver ignores everything (nothing is penalized, nothing stored).
  const replay = byz?.options.replayGossip ? replayProposals(byz.options, byz.context()) : undefined;
  const judgeProposal = (msg: ConsensusMessage) => {
    replay?.(msg);
    return driver.judge(msg);
  };
  // The proposal topic also carries block fragments (ADR 0092), told apart by their version.
  type ProposalTopicMessage = { consensus: ConsensusMessage } | { fragment: SignedFragment; raw: Uint8Array };
  d.p2p.subscribe<ProposalTopicMessage>("proposal", {
    decode: (data) =>
      isFragment(data)
        ? { fragment: decodeFragment(data, chainId), raw: data }
        : { consensus: decodeConsensusEnvelope(data) },
    validate: (msg) => ("fragment" in msg ? d.judgeFragment(msg.fragment) : judgeProposal(msg.consensus)),
    onMessage: (msg) => {
      if (!("fragment" in msg)) return;
      preconf.gossiped(msg.fragment, msg.raw);
      app.onFragment(msg.fragment);
    },
  });
  d.p2p.subscribe<ConsensusMessage>("vote", {
    decode: (data: Uint8Array) => decodeConsensusEnvelope(data),
    validate: (msg: ConsensusMessage) => driver.judge(msg),
    onMessage: () => {},
  });
  // A validator's connection dropping may make the height being waited for start at once (its
  // round-0 proposer unreachable, ADR 0191).
  d.p2p.events.on("p2p.peer.disconnected", () => driver.recheckStart());
  driver.events.on("consensus.evidence", ({ evidence }) =>
    log.error("equivocation evidence", { type: evidence.type }),
  );
  driver.events.on("consensus.halted", ({ reason }) => log.error("consensus halted", { reason }));

  let stopGarbage: (() => void) | undefined;
  return {
    driver,
    app,
    signs: signer !== null,
    preconf,
    preconfirmed: createPreconfirmedState({
      chain: d.chain,
      store: preconf.store,
      // The prefix is built as its proposer's block would be: tips go to its reward recipient.
      coinbase: (h, signer) =>
        d.schedule.validatorSetAt(h).validators.find((v) => v.address === signer)?.rewardRecipient ?? signer,
    }),
    start: async () => {
      await driver.start(Number(d.chain.head().header.number) + 1);
      if (byz?.options.garbageGossip) stopGarbage = startGarbageGossip(byz.options, byz.context());
    },
    stop: async () => {
      stopGarbage?.();
      preconf.close();
      await driver.stop();
    },
  };
}
