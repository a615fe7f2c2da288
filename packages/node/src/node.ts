import { mkdirSync } from "node:fs";
import {
  bytesToHex,
  type Clock,
  DseqError,
  EventBus,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
  withTimeout,
} from "@dseq/common";
import { logCryptoBackend, privateKeyToAddress } from "@dseq/crypto";
import type { Chain } from "@dseq/l2-exec";
import type { P2pHost } from "@dseq/p2p";
import type { Evidence } from "@dseq/pos-consensus";
import type { RpcEventMap, RpcServer } from "@dseq/rpc";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import type { AdminServer, Health } from "./admin.ts";
import type { SignedFragment } from "./blockStream.ts";
import {
  type ByzantineContext,
  byzantineBlockSource,
  byzantineFlags,
  oversizedBlockBytes,
} from "./byzantine.ts";
import type { ChainSpec } from "./chainSpec.ts";
import { chainBlockSource } from "./chainSync.ts";
import type { NodeConfig } from "./config.ts";
import type { CommittedInfo } from "./consensusApp.ts";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { evidenceHealthOf } from "./health.ts";
import { L1Feed, type L1Status } from "./l1Feed.ts";
import type { FragmentEvidence } from "./preconf/index.ts";
import { rebuildChainState } from "./rotation.ts";
import { initAdmin } from "./start/initAdmin.ts";
import { type BatchesStatus, initBatches, type NodeBatches } from "./start/initBatches.ts";
import { initChain } from "./start/initChain.ts";
import { type Consensus, initConsensus } from "./start/initConsensus.ts";
import { initP2p } from "./start/initP2p.ts";
import { initPool } from "./start/initPool.ts";
import { initRpc } from "./start/initRpc.ts";
import { initTxGossip } from "./start/initTxGossip.ts";
import { createNodeMetrics } from "./start/nodeMetrics.ts";
import type { Started } from "./start/started.ts";
import type { TxGossip } from "./txGossip.ts";

export { NodeStartError } from "./start/started.ts";

export type NodeModules = {
  logger: Logger;
  metrics: Metrics;
  /** The sequencer key (validator) or the p2p identity key (follower). Never logged. */
  privateKey: Uint8Array;
  /** The keystore password: seals the TSS shares, opens the L1 batch keystore. Never logged. */
  password?: string;
  clock?: Clock;
};

export type NodeEvents = {
  "node.committed": Omit<CommittedInfo, "block" | "entries" | "outcome">;
};

/**
 * One dseq node: l2-exec (chain store and EVM), txpool, sequencer-rotation, pos-consensus,
 * p2p and rpc in one process, wired through their small interfaces. Modules start in order
 * (`start/initX.ts`) and stop in reverse.
 */
export class DseqNode {
  readonly events = new EventBus<NodeEvents>({ name: "node" });
  readonly address: Hex;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly rpcEvents: EventBus<RpcEventMap>;
  private chain!: Chain;
  private pool!: TxPool;
  private schedule!: RotationSchedule;
  private p2p!: P2pHost;
  private consensus!: Consensus;
  private rpc: RpcServer | undefined;
  private admin: AdminServer | undefined;
  private txGossip: TxGossip | undefined;
  private l1: L1Feed | undefined;
  private batches: NodeBatches | undefined;
  private readonly stops: (() => Promise<void> | void)[] = [];
  private lastCommitAt = 0;
  private stopping: Promise<void> | undefined;

  readonly config: NodeConfig;
  readonly spec: ChainSpec;
  private readonly m: NodeModules;

  constructor(config: NodeConfig, spec: ChainSpec, modules: NodeModules) {
    this.config = config;
    this.spec = spec;
    // Own copy: the caller may wipe its buffer once the node is made.
    this.m = { ...modules, privateKey: modules.privateKey.slice() };
    this.log = modules.logger;
    this.clock = modules.clock ?? realClock;
    this.address = bytesToHex(privateKeyToAddress(modules.privateKey));
    this.rpcEvents = new EventBus<RpcEventMap>({ name: "rpc-events", logger: this.log });
  }

  get isValidator(): boolean {
    return this.config.mode === "validator";
  }

  /** URLs the node serves on, once started. */
  readonly endpoints: { rpcHttp?: string; rpcWs?: string; admin?: string; p2p: string[] } = { p2p: [] };

  /**
   * Opens the modules in order, each `initX` in `start/` returning the module and its stop;
   * stop() runs those in reverse (Lodestar's habit). Every port is bound before consensus
   * enters its first height, so a start that fails (port in use) has signed and written nothing.
   */
  async start(): Promise<void> {
    const { config, spec, m, log } = this;
    logCryptoBackend(log);
    // Tests and research only (ADR 0105): every seam below is the honest one when this is undefined.
    const byz = byzantineFlags(config.byzantine).length > 0 ? config.byzantine : undefined;
    if (byz)
      log.error("BYZANTINE MODE: this node misbehaves on purpose; never run it on a real network", {
        flags: byzantineFlags(byz),
      });
    const blockCap = byz?.oversizedBlock ? oversizedBlockBytes(spec.maxBlockBytes) : spec.maxBlockBytes;
    mkdirSync(config.dataDir, { recursive: true });
    const mod = (name: string) => ({ logger: log.child({ module: name }), metrics: m.metrics });

    // 1. Chain store and EVM.
    this.chain = this.keep(await initChain(config.dataDir, spec, blockCap, mod("chain")));
    const head = this.chain.head();
    log.info("chain store open", {
      genesisHash: bytesToHex(this.chain.genesisHash),
      head: Number(head.header.number),
      headHash: bytesToHex(head.hash()),
    });

    // 2. Rotation schedule and L1 entry index, rebuilt from the committed blocks; the L1 feed
    // (ADR 0120) loads its stored confirmed entries before consensus asks for any.
    const rebuilt = await rebuildChainState(spec, this.chain);
    this.schedule = rebuilt.schedule;
    if (config.l1) {
      const l1 = new L1Feed({ ...config.l1, dataDir: config.dataDir }, mod("l1"));
      await l1.start();
      this.l1 = this.keep({ module: l1, stop: () => l1.stop() });
    }
    const inSet = this.schedule
      .validatorSetAt(Number(head.header.number) + 1)
      .validators.some((v) => v.address === this.address);
    if (this.isValidator && !inSet) {
      log.warn("this key is not in the validator set: running as a validator that never signs", {
        address: this.address,
      });
    }

    // 3. Txpool on the head's state.
    this.pool = this.keep(
      await initPool(config, spec, this.chain, blockCap, { ...mod("txpool"), clock: this.clock }),
    );

    // 4. p2p.
    this.p2p = this.keep(
      await initP2p(
        config,
        {
          chainId: BigInt(spec.chainId),
          genesisHash: this.chain.genesisHash,
          maxBlockBytes: spec.maxBlockBytes,
        },
        {
          ...mod("p2p"),
          privateKey: m.privateKey,
          validators: {
            has: (a) =>
              this.schedule.validatorSetAt(this.nextHeight()).validators.some((v) => v.address === a),
          },
          blocks: byzantineBlockSource(byz, chainBlockSource(this.chain)),
        },
      ),
    );
    this.endpoints.p2p = this.p2p.multiaddrs();

    // 5. Transaction gossip.
    this.txGossip = this.keep(
      initTxGossip(this.p2p, this.pool, this.rpcEvents, { ...mod("txgossip"), clock: this.clock }),
    );

    // 5b. TSS and batches (ADR 0154): every validator with a `batches` section signs, a
    // `batches.submit` one posts; both on their own timers, never in the block path.
    if (config.batches && this.isValidator) {
      if (m.password === undefined)
        throw new NodeError(
          NodeErrorCode.NoPassword,
          "batches need the keystore password (NodeModules.password)",
        );
      const b = await initBatches(config, BigInt(spec.chainId), {
        chain: this.chain,
        schedule: () => this.schedule,
        host: this.p2p,
        privateKey: m.privateKey,
        password: m.password,
        address: this.address,
        nextHeight: () => this.nextHeight(),
        spec,
        ...mod("batches"),
      });
      if (b) this.batches = this.keep(b);
      // Every confirmed rotation goes to the TSS (ADR 0151): its pending key switches shares, a key
      // it holds no share of after it left the set stops its signing, stepRotation ignores the rest.
      const tss = b?.module.tss.service;
      if (tss)
        this.l1?.onGroupKeyRotated((key) => {
          void tss.confirmRotation(key.toLowerCase() as Hex).catch(() => undefined);
        });
    }

    // 6. Consensus, opened (WAL, guard, gossip judged by the driver) but not yet running. With
    // L1 the set changes while the node runs: a validator outside it keeps its signer and starts
    // signing at the first height whose set holds it (consensus signs only then).
    const nodeMetrics = createNodeMetrics(m.metrics);
    nodeMetrics.head.set(Number(head.header.number));
    const consensus = await initConsensus(config, spec, {
      chain: this.chain,
      pool: this.pool,
      schedule: this.schedule,
      p2p: this.p2p,
      ...(this.l1 ? { l1: { feed: this.l1, nextEntry: rebuilt.nextEntry } } : {}),
      address: this.address,
      sign: this.isValidator && (inSet || this.l1 !== undefined),
      privateKey: m.privateKey,
      ...(byz ? { byzantine: { options: byz, context: () => this.byzantineContext() } } : {}),
      judgeFragment: (f) => this.judgeFragment(f),
      onCommitted: (info) => this.onCommitted(info, nodeMetrics),
      nodeMetrics,
      clock: this.clock,
      logger: log,
      metrics: m.metrics,
    });
    this.consensus = consensus;

    // 7. RPC and admin: bound before consensus runs.
    if (config.rpc.http.enabled || config.rpc.ws.enabled) {
      const rpc = await initRpc(config, spec, {
        chain: this.chain,
        pool: this.pool,
        preconfirmed: consensus.preconfirmed,
        events: this.rpcEvents,
        submitRawTransaction: (raw) => this.submitTransaction(raw),
        syncing: () => {
          const s = this.syncStatus();
          return s.synced
            ? false
            : { startingBlock: 0n, currentBlock: BigInt(s.head), highestBlock: BigInt(s.highestPeerHead) };
        },
        peerCount: () => this.p2p.peers().length,
        dseq: {
          schedule: () => this.schedule,
          nextHeight: () => this.nextHeight(),
          currentSequencer: () => this.currentSequencer(),
          syncStatus: () => ({
            ...this.syncStatus(),
            peers: this.p2p.peers().length,
            lastCommitAt: this.lastCommitAt,
            ...(this.l1 ? { l1: this.l1Status() } : {}),
            ...(this.batches ? { batches: this.batches.status() } : {}),
          }),
        },
        ...mod("rpc"),
      });
      this.rpc = this.keep(rpc);
      rpc.module.subscriptions.setPreconfSource(consensus.preconf.source);
      Object.assign(this.endpoints, rpc.endpoints);
    }
    if (config.admin.enabled) {
      const admin = await initAdmin(config, spec.blockTimeMs, {
        metrics: m.metrics,
        health: () => this.health(),
        events: this.events,
        certificate: (h) => this.chain.getCommitCertificate(h),
        round0Proposer: (h) => this.schedule.proposerFor(h, 0),
        l1: () => this.l1Status(),
        logger: log.child({ module: "admin" }),
      });
      this.admin = this.keep(admin);
      this.endpoints.admin = admin.endpoint;
    }

    // 8. Consensus enters the height after the head: the last step.
    await consensus.start();
    this.stops.push(() => consensus.stop());
    log.info("node started", {
      address: this.address,
      mode: config.mode,
      signer: consensus.signs,
      ...this.endpoints,
    });
  }

  /** Records a started module's stop (run in reverse by stop()) and hands back the module. */
  private keep<T>(s: Started<T>): T {
    this.stops.push(s.stop);
    return s.module;
  }

  private onCommitted(info: CommittedInfo, nm: ReturnType<typeof createNodeMetrics>): void {
    this.lastCommitAt = this.clock.now();
    nm.head.set(info.height);
    nm.lastCommitRound.set(info.round);
    if (info.round > 0) nm.proposerMisses.inc();
    nm.poolSize.set(this.pool.size);
    nm.peers.set(this.p2p.peers().length);
    this.log.info("block committed", {
      height: info.height,
      hash: info.hash,
      txs: info.txs,
      round: info.round,
      proposer: info.proposer,
      gasUsed: Number(info.gasUsed),
    });
    if (info.outcome.spanStarted) this.batches?.spanStarted(info.outcome.spanStarted);
    if (info.outcome.checkpoint) this.batches?.checkpointCut(info.outcome.checkpoint);
    this.rpcEvents.emit("chain.head", { number: BigInt(info.height), hash: info.hash });
    const { block: _block, entries: _entries, outcome: _outcome, ...plain } = info;
    this.events.emit("node.committed", plain);
  }

  /** Graceful: stop accepting (RPC first), let consensus finish its step, flush, close. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const stop of [...this.stops].reverse()) {
        try {
          await stop();
        } catch (err) {
          this.log.warn("error while stopping a module", { err });
        }
      }
      this.log.info("node stopped");
    })();
    return this.stopping;
  }

  /**
   * A fragment is forwarded only when it is signed by the round-0 proposer of the next height
   * or the one after (the only streams anyone follows); anything else is dropped unforwarded.
   */
  private judgeFragment(f: SignedFragment): "accept" | "ignore" {
    const next = this.nextHeight();
    if (f.height !== next && f.height !== next + 1) return "ignore";
    try {
      return this.schedule.proposerFor(f.height, 0).toLowerCase() === f.signer ? "accept" : "ignore";
    } catch {
      return "ignore";
    }
  }

  private byzantineContext(): ByzantineContext {
    return {
      chainId: BigInt(this.spec.chainId),
      privateKey: this.m.privateKey,
      decodeBlock: (p: Uint8Array) => this.chain.decodeBlock(p),
      publish: (kind: "proposal" | "vote", data: Uint8Array) => this.p2p.publish(kind, data),
      logger: this.log.child({ module: "byzantine" }),
    };
  }

  /** How this node's p2p host rates a peer (tests, the ADR 0105 harness). */
  peerStanding(peerId: string): { penalties: number; score: number; banned: boolean } {
    return {
      penalties: this.p2p.penaltyCount(peerId),
      score: this.p2p.score(peerId),
      banned: this.p2p.isBanned(peerId),
    };
  }

  /** Conflicting signed stream fragments this node saw (ADR 0171). */
  fragmentEvidence(): readonly FragmentEvidence[] {
    return this.consensus.preconf.evidence();
  }

  /** Equivocation evidence this node's consensus driver recorded. */
  evidence(): readonly Evidence[] {
    return this.consensus.driver.evidence.list();
  }

  private nextHeight(): number {
    return Number(this.chain.head().header.number) + 1;
  }

  private async submitTransaction(raw: Uint8Array): Promise<Hex> {
    // RPC traffic is public: admitted as remote (evictable, expiring), never as the operator's own.
    const [r] = await this.pool.addRemotes([raw], { origin: "rpc" });
    if (!r) throw new DseqError(NodeErrorCode.Submit, "no admission result");
    if (!r.ok) throw r.error;
    // Reply once the transaction left this process (a kill -9 right after the reply loses
    // nothing), unless there is no peer to give it to.
    const sent = this.txGossip?.add(raw);
    if (sent && this.p2p.peers().length > 0)
      await withTimeout(sent, 2_000, "tx gossip").catch(() => undefined);
    return r.hash;
  }

  syncStatus(): { synced: boolean; head: number; highestPeerHead: number } {
    const headNum = Number(this.chain.head().header.number);
    let highest = headNum;
    // A claim no chain of this spec can have reached by now is a lie (ADR 0105's hugeHead): each
    // block is stamped >= one block time after its parent and <= 2 s ahead of the clock.
    const possible = Math.floor(
      ((this.clock.now() / 1000 + 2 - this.spec.genesis.timestamp) * 1000) / this.spec.blockTimeMs,
    );
    for (const p of this.p2p.peers()) {
      const claim = p.headHeight === undefined ? undefined : Number(p.headHeight);
      if (claim !== undefined && claim > highest && claim <= possible) highest = claim;
    }
    const age = this.clock.now() - Number(this.chain.head().header.timestamp) * 1000;
    const synced = highest - headNum <= 2 && age < Math.max(10_000, this.spec.blockTimeMs * 5);
    return { synced, head: headNum, highestPeerHead: highest };
  }

  /** TSS membership and batch lag (ADR 0154); undefined without a `batches` section. */
  batchesStatus(): BatchesStatus | undefined {
    return this.batches?.status();
  }

  /** L1 head, lag and reachability (ADR 0120); undefined without an `l1` config section. */
  l1Status(): L1Status | undefined {
    return this.l1?.status();
  }

  currentSequencer(): Hex {
    return this.schedule.sequencerAt(this.nextHeight());
  }

  health(): Health {
    const head = this.chain.head();
    const seq = this.currentSequencer();
    const next = this.nextHeight();
    const set = this.schedule.validatorSetAt(next);
    const span = this.schedule.currentSpan();
    const reelection = this.schedule.reelectionState();
    let nextSequencer: Health["nextSequencer"];
    try {
      const p = this.schedule.nextSpanPreview();
      nextSequencer = { span: p.index, startHeight: span.endHeight + 1, address: p.sequencer };
    } catch {
      nextSequencer = undefined;
    }
    const sync = this.syncStatus();
    return {
      synced: sync.synced,
      mode: this.config.mode,
      head: {
        number: Number(head.header.number),
        hash: bytesToHex(head.hash()),
        timestamp: Number(head.header.timestamp),
      },
      lastBlockAgeMs: this.clock.now() - Number(head.header.timestamp) * 1000,
      currentSequencer: seq,
      isSequencer: seq === this.address,
      peers: this.p2p.peers().length,
      consensus: {
        height: this.consensus.driver.height,
        round: this.consensus.driver.round,
        halted: this.consensus.driver.halted !== undefined,
      },
      address: this.address,
      chainId: this.spec.chainId,
      blockTimeMs: this.spec.blockTimeMs,
      highestPeerHead: sync.highestPeerHead,
      signer: this.isValidator && set.validators.some((v) => v.address === this.address),
      span: { index: span.index, startHeight: span.startHeight, endHeight: span.endHeight },
      nextSequencer,
      evidence: evidenceHealthOf(this.evidence(), this.fragmentEvidence()),
      reelection: {
        missStreak: reelection.missStreak,
        reelectAfterMisses: reelection.reelectAfterMisses,
        excluded: [...reelection.excluded],
      },
      validators: set.validators.map((v) => {
        const r = this.schedule.rewardsOf(v.id);
        return {
          id: v.id,
          address: v.address,
          power: Number(v.power),
          earned: r.earned.toString(),
          accrued: r.accrued.toString(),
        };
      }),
      totalPower: Number(set.totalPower),
      rewardPerBlock: this.schedule.rewardPerBlock().toString(),
      pool: { size: this.pool.size },
      ...(this.batches ? { batches: this.batches.status() } : {}),
    };
  }
}
