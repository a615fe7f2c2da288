import { mkdirSync } from "node:fs";
import { join } from "node:path";
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
import { type Chain, createChain } from "@dseq/l2-exec";
import { createP2pHost, decodeBatch, defaultGossipBatcherOptions, type P2pHost } from "@dseq/p2p";
import {
  ConsensusDriver,
  type ConsensusMessage,
  createKeySigner,
  DoubleSignGuard,
  type Evidence,
  FileWal,
  fileGuardStore,
  Step,
} from "@dseq/pos-consensus";
import { createRpcServer, type Json, method, type RpcEventMap, type RpcServer } from "@dseq/rpc";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import { createTxPool, type PooledTx, type TxPool } from "@dseq/txpool";
import { AdminServer, type Health } from "./admin.ts";
import {
  type BlockFragment,
  decodeFragment,
  encodeFragment,
  isFragment,
  type SignedFragment,
} from "./blockStream.ts";
import {
  type ByzantineContext,
  byzantineBlockSource,
  byzantineBroadcast,
  byzantineFlags,
  oversizedBlockBytes,
  replayProposals,
  startGarbageGossip,
} from "./byzantine.ts";
import type { ChainSpec } from "./chainSpec.ts";
import { chainBlockSource, p2pBlockFetcher } from "./chainSync.ts";
import type { NodeConfig } from "./config.ts";
import { type CommittedInfo, createConsensusApp } from "./consensusApp.ts";
import { decodeConsensusEnvelope, encodeConsensusEnvelope } from "./consensusWire.ts";
import { L1Feed, type L1Status } from "./l1Feed.ts";
import { rebuildChainState, rotationValidatorSource } from "./rotation.ts";
import { CallPool } from "./rpc/callPool.ts";
import { chainReader, txPoolView } from "./rpcBackend.ts";
import { TxGossip } from "./txGossip.ts";

/** Propose timeout when the round's proposer is not connected to this node at all. */
const UNREACHABLE_PROPOSER_TIMEOUT_MS = 300;

/** keccak256 of empty code: an account without code has this code hash. */
const KECCAK256_EMPTY = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

export type NodeModules = {
  logger: Logger;
  metrics: Metrics;
  /** The sequencer key (validator) or the p2p identity key (follower). Never logged. */
  privateKey: Uint8Array;
  clock?: Clock;
};

export type NodeEvents = {
  "node.committed": Omit<CommittedInfo, "block" | "entries" | "outcome">;
};

export class NodeStartError extends DseqError {
  constructor(message: string, cause?: unknown) {
    super("NODE_START", message, { cause });
    this.name = "NodeStartError";
  }
}

function listenError(what: string, host: string, port: number, err: unknown): NodeStartError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new NodeStartError(`${what} port ${host}:${port} is already in use`, err);
  return new NodeStartError(`cannot listen for ${what} on ${host}:${port}: ${(err as Error).message}`, err);
}

/**
 * One dseq node: l2-exec (chain store and EVM), txpool, sequencer-rotation, pos-consensus,
 * p2p and rpc in one process, wired through their small interfaces. Modules start in order
 * and stop in reverse (Lodestar's habit); the node owns the AbortController.
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
  private driver!: ConsensusDriver;
  private rpc: RpcServer | undefined;
  private admin: AdminServer | undefined;
  private txGossip: TxGossip | undefined;
  private l1: L1Feed | undefined;
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

    // 1. Chain store and EVM.
    try {
      this.chain = await createChain({
        dataDir: join(config.dataDir, "chain"),
        chainConfig: {
          chainId: BigInt(spec.chainId),
          gasLimit: BigInt(spec.genesis.gasLimit),
          baseFeePerGas: spec.genesis.baseFeePerGas,
          timestamp: BigInt(spec.genesis.timestamp),
          extraData: spec.genesis.extraData as Hex,
          alloc: Object.fromEntries(
            Object.entries(spec.genesis.alloc).map(([a, acc]) => [
              a,
              {
                balance: acc.balance,
                ...(acc.nonce === undefined ? {} : { nonce: BigInt(acc.nonce) }),
                ...(acc.code === undefined ? {} : { code: acc.code as Hex }),
                ...(acc.storage === undefined ? {} : { storage: acc.storage as Record<Hex, Hex> }),
              },
            ]),
          ),
        },
        // A consensus rule (chain spec); commits are fsynced (l2-exec's default): the WAL
        // forgets a height once its commit returned.
        maxBlockBytes: blockCap,
        logger: log.child({ module: "chain" }),
        metrics: m.metrics,
      });
    } catch (err) {
      throw new NodeStartError(
        `cannot open the chain store in ${join(config.dataDir, "chain")} (corrupt, or used by another process?): ${(err as Error).message}`,
        err,
      );
    }
    this.stops.push(() => this.chain.close());
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
      const l1 = new L1Feed(
        { ...config.l1, dataDir: config.dataDir },
        { logger: log.child({ module: "l1" }), metrics: m.metrics },
      );
      await l1.start();
      this.l1 = l1;
      this.stops.push(() => l1.stop());
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
    this.pool = createTxPool(
      {
        chainId: BigInt(spec.chainId),
        accountSlots: config.txpool.accountSlots,
        globalSlots: config.txpool.globalSlots,
        lifetimeMs: config.txpool.queuedLifetimeSec * 1000,
        minTip: BigInt(config.txpool.minTipWei),
        maxBlockBytes: blockCap,
        ...(config.txpool.journal ? { journalPath: join(config.dataDir, "txpool", "journal.rlp") } : {}),
      },
      {
        state: {
          getAccount: async (a) => {
            const acc = await this.chain.getAccount(a, "latest");
            return {
              nonce: acc?.nonce ?? 0n,
              balance: acc?.balance ?? 0n,
              // EIP-7702: a delegated (or contract) sender gets one transaction in flight.
              hasCode: acc !== undefined && acc.codeHash !== KECCAK256_EMPTY,
            };
          },
        },
        logger: log.child({ module: "txpool" }),
        metrics: m.metrics,
        clock: this.clock,
      },
    );
    if (config.txpool.journal) mkdirSync(join(config.dataDir, "txpool"), { recursive: true });
    await this.pool.start({
      number: head.header.number,
      gasLimit: head.header.gasLimit,
      nextBaseFee: head.header.calcNextBaseFee(),
    });
    this.stops.push(() => this.pool.stop());

    // 4. p2p.
    try {
      this.p2p = await createP2pHost(
        {
          privateKey: m.privateKey,
          chainId: BigInt(spec.chainId),
          genesisHash: this.chain.genesisHash,
          listen: config.p2p.listen,
          bootstrap: config.p2p.bootstrap,
          staticPeers: config.p2p.bootstrap,
          maxConnections: config.p2p.maxConnections,
          maxBlockBytes: spec.maxBlockBytes,
        },
        {
          logger: log.child({ module: "p2p" }),
          metrics: m.metrics,
          validators: {
            has: (a) =>
              this.schedule.validatorSetAt(this.nextHeight()).validators.some((v) => v.address === a),
          },
          blocks: byzantineBlockSource(byz, chainBlockSource(this.chain)),
        },
      );
    } catch (err) {
      throw new NodeStartError(
        `cannot start p2p on ${config.p2p.listen.join(", ")}: ${(err as Error).message}`,
        err,
      );
    }
    this.stops.push(() => this.p2p.stop());
    this.endpoints.p2p = this.p2p.multiaddrs();

    // 5. Transactions: RPC-submitted ones are gossiped in batches (and announced again while
    // they stay pooled); gossiped ones enter the pool through the same admission.
    this.txGossip = new TxGossip(
      {},
      {
        publish: (batch) => this.p2p.publish("tx", batch),
        pooled: () => this.pooledTxs(),
        clock: this.clock,
        logger: log.child({ module: "txgossip" }),
      },
    );
    this.txGossip.start();
    this.stops.push(() => this.txGossip?.stop());
    this.p2p.subscribe<Uint8Array[]>("tx", {
      decode: (data) => decodeBatch(data, defaultGossipBatcherOptions.maxBatchItems),
      onMessage: (raws) => {
        this.pool
          .addRemotes(raws, { origin: "peer" })
          .catch((err: unknown) => log.warn("gossiped transactions failed admission", { err }));
      },
    });
    this.pool.events.on("txpool.added", (e) => {
      if (e.pending) this.rpcEvents.emit("txpool.pending", { hashes: [e.hash] });
    });

    // 6. Consensus.
    const consensusDir = join(config.dataDir, "consensus");
    mkdirSync(consensusDir, { recursive: true });
    const wal = await FileWal.open(join(consensusDir, "wal"), log.child({ module: "wal" }));
    // With L1 the set changes while the node runs: a validator outside it keeps its signer and
    // starts signing at the first height whose set holds it (consensus signs only then).
    const signer = this.isValidator && (inSet || this.l1) ? createKeySigner(m.privateKey) : null;
    const guard = signer
      ? await DoubleSignGuard.open(fileGuardStore(join(consensusDir, "last-signed.json")))
      : null;
    const buildSeconds = m.metrics.histogram({
      name: "dseq_node_block_build_seconds",
      help: "time to build a proposed block",
    });
    const executeSeconds = m.metrics.histogram({
      name: "dseq_node_block_execute_seconds",
      help: "time to re-execute a proposed block",
    });
    const commitSeconds = m.metrics.histogram({
      name: "dseq_node_block_commit_seconds",
      help: "time to commit a decided block",
    });
    const headGauge = m.metrics.gauge({
      name: "dseq_node_head_height",
      help: "latest committed block number",
    });
    const roundGauge = m.metrics.gauge({
      name: "dseq_node_last_commit_round",
      help: "round in which the last block was committed",
    });
    const missCounter = m.metrics.counter({
      name: "dseq_node_proposer_misses_total",
      help: "heights not committed in round 0",
    });
    const poolGauge = m.metrics.gauge({ name: "dseq_node_txpool_size", help: "transactions in the pool" });
    const peerGauge = m.metrics.gauge({ name: "dseq_node_peers", help: "connected peers" });
    headGauge.set(Number(head.header.number));
    const chainId = BigInt(spec.chainId);
    const streamedCounter = m.metrics.counter({
      name: "dseq_node_streamed_proposals_total",
      help: "proposals checked against this validator's build of the streamed block (hit: no re-execution)",
      labelNames: ["result"],
    });
    const app = createConsensusApp(
      {
        blockTimeMs: spec.blockTimeMs,
        emptyBlocks: config.consensus.emptyBlocks,
        maxFutureSeconds: 2,
        maxTxsPerBlock: 5_000,
        continuousBuild: config.consensus.continuousBuild,
        maxCatchUpSeconds: 3600,
        maxRound: 1_000,
        // The same cap goes to l2-exec's builder (integration: one constant for both).
        maxBlockBytes: spec.maxBlockBytes,
      },
      {
        chain: this.chain,
        pool: this.pool,
        schedule: this.schedule,
        self: signer ? this.address : undefined,
        clock: this.clock,
        logger: log.child({ module: "app" }),
        metrics: {
          build: (s) => buildSeconds.observe(s),
          execute: (s) => executeSeconds.observe(s),
          commit: (s) => commitSeconds.observe(s),
          streamed: (result) => streamedCounter.inc({ result }),
        },
        ...(this.l1
          ? {
              l1: {
                queue: this.l1.queue,
                nextEntry: rebuilt.nextEntry,
                verifyWaitMs: config.l1?.verifyWaitMs ?? 1500,
              },
            }
          : {}),
        ...(signer
          ? {
              stream: {
                publish: (f: BlockFragment) => {
                  const data = encodeFragment(f, chainId, m.privateKey);
                  this.p2p.publish("proposal", data).catch((err: unknown) => {
                    log.debug("block fragment gossip failed", { err });
                  });
                },
              },
            }
          : {}),
        onCommitted: (info) => {
          this.lastCommitAt = this.clock.now();
          headGauge.set(info.height);
          roundGauge.set(info.round);
          if (info.round > 0) missCounter.inc();
          poolGauge.set(this.pool.size);
          peerGauge.set(this.p2p.peers().length);
          log.info("block committed", {
            height: info.height,
            hash: info.hash,
            txs: info.txs,
            round: info.round,
            proposer: info.proposer,
            gasUsed: Number(info.gasUsed),
          });
          this.rpcEvents.emit("chain.head", { number: BigInt(info.height), hash: info.hash });
          const { block: _block, entries: _entries, outcome: _outcome, ...plain } = info;
          this.events.emit("node.committed", plain);
        },
      },
    );
    const validators = rotationValidatorSource(this.schedule);
    this.driver = new ConsensusDriver(
      {
        chainId: BigInt(spec.chainId),
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
          if (who === undefined || who === this.address || this.p2p.peerOfValidator(who) !== undefined)
            return ms;
          return Math.min(ms, UNREACHABLE_PROPOSER_TIMEOUT_MS);
        },
        network: {
          broadcast: byz
            ? byzantineBroadcast(byz, this.byzantineContext(), (msg) => this.broadcast(msg))
            : (msg) => this.broadcast(msg),
        },
        fetcher: p2pBlockFetcher(this.p2p, log.child({ module: "sync" })),
        wal,
        signer,
        guard,
        clock: this.clock,
        logger: log.child({ module: "consensus" }),
        metrics: m.metrics,
      },
    );
    // Gossip is judged before it is forwarded: the driver takes a message it accepts (signed by
    // a validator of its height, not seen before), and a reject lowers the sender's score.
    // Delivery happens in the judgement, so onMessage has nothing left to do.
    const onConsensus = {
      decode: (data: Uint8Array) => decodeConsensusEnvelope(data),
      validate: (msg: ConsensusMessage) => this.driver.judge(msg),
      onMessage: () => {},
    };
    // The proposal topic also carries block fragments (ADR 0092), told apart by their version.
    type ProposalTopicMessage = { consensus: ConsensusMessage } | { fragment: SignedFragment };
    const replay = byz?.replayGossip ? replayProposals(byz, this.byzantineContext()) : undefined;
    const judgeProposal = replay
      ? (msg: ConsensusMessage) => {
          replay(msg);
          return this.driver.judge(msg);
        }
      : (msg: ConsensusMessage) => this.driver.judge(msg);
    this.p2p.subscribe<ProposalTopicMessage>("proposal", {
      decode: (data) =>
        isFragment(data)
          ? { fragment: decodeFragment(data, chainId) }
          : { consensus: decodeConsensusEnvelope(data) },
      validate: (msg) =>
        "fragment" in msg ? this.judgeFragment(msg.fragment) : judgeProposal(msg.consensus),
      onMessage: (msg) => {
        if ("fragment" in msg) app.onFragment(msg.fragment);
      },
    });
    this.p2p.subscribe<ConsensusMessage>("vote", onConsensus);
    this.driver.events.on("consensus.evidence", ({ evidence }) =>
      log.error("equivocation evidence", { type: evidence.type }),
    );
    this.driver.events.on("consensus.halted", ({ reason }) => log.error("consensus halted", { reason }));
    await this.driver.start(Number(head.header.number) + 1);
    this.stops.push(() => this.driver.stop());
    if (byz?.garbageGossip) this.stops.push(startGarbageGossip(byz, this.byzantineContext()));

    // 7. RPC and admin.
    if (config.rpc.http.enabled || config.rpc.ws.enabled) {
      // eth_call and friends run in worker threads, never on this (consensus) thread: ADR 0130.
      const callPool = new CallPool(
        {},
        {
          source: await this.chain.callSource(),
          logger: log.child({ module: "rpc-evm" }),
          metrics: m.metrics,
        },
      );
      await callPool.start();
      this.stops.push(() => callPool.stop());
      const rpc = createRpcServer(
        {
          http: config.rpc.http.enabled ? { host: config.rpc.http.host, port: config.rpc.http.port } : false,
          ws: config.rpc.ws.enabled ? { host: config.rpc.ws.host, port: config.rpc.ws.port } : false,
          corsOrigins: config.rpc.cors,
          maxBodyBytes: config.rpc.maxBodyBytes,
          maxBatchSize: config.rpc.maxBatch,
          requestTimeoutMs: config.rpc.timeoutMs,
          maxLogsBlockRange: config.rpc.getLogsMaxRange,
          clientVersion: "dseq/v0.1.0",
        },
        {
          backend: {
            chain: chainReader(this.chain, { callPool, blockTimeMs: spec.blockTimeMs }),
            txpool: txPoolView(this.pool),
            events: this.rpcEvents,
            submitRawTransaction: (raw) => this.submitTransaction(raw),
            syncing: () => {
              const s = this.syncStatus();
              return s.synced
                ? false
                : {
                    startingBlock: 0n,
                    currentBlock: BigInt(s.head),
                    highestBlock: BigInt(s.highestPeerHead),
                  };
            },
            peerCount: () => this.p2p.peers().length,
          },
          logger: log.child({ module: "rpc" }),
          metrics: m.metrics,
        },
      );
      this.registerDseqMethods(rpc);
      try {
        await rpc.start();
      } catch (err) {
        const host = config.rpc.http.enabled ? config.rpc.http.host : config.rpc.ws.host;
        const port = config.rpc.http.enabled ? config.rpc.http.port : config.rpc.ws.port;
        throw listenError("RPC", host, port, err);
      }
      this.rpc = rpc;
      this.stops.push(() => rpc.stop());
      if (config.rpc.http.enabled)
        this.endpoints.rpcHttp = `http://${config.rpc.http.host}:${config.rpc.http.port}`;
      if (config.rpc.ws.enabled) this.endpoints.rpcWs = `ws://${config.rpc.ws.host}:${config.rpc.ws.port}`;
    }
    if (config.admin.enabled) {
      const admin = new AdminServer(
        { dataDir: config.dataDir, sync: { blockTimeMs: spec.blockTimeMs } },
        {
          metrics: m.metrics,
          health: () => this.health(),
          events: this.events,
          certificate: (h) => this.chain.getCommitCertificate(h),
          round0Proposer: (h) => this.schedule.proposerFor(h, 0),
          logger: log.child({ module: "admin" }),
        },
      );
      try {
        const addr = await admin.listen(config.admin.host, config.admin.port);
        this.endpoints.admin = `http://${config.admin.host}:${addr.port}`;
      } catch (err) {
        throw listenError("admin", config.admin.host, config.admin.port, err);
      }
      this.admin = admin;
      this.stops.push(() => admin.close());
    }
    log.info("node started", {
      address: this.address,
      mode: config.mode,
      signer: signer !== null,
      ...this.endpoints,
    });
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
   * What to announce again: the executable transactions, in block order. A gap in another
   * node's pool is filled by a transaction that is pending on the node that has it, so queued
   * ones need not travel; walking the pending heap also avoids snapshotting the whole pool.
   */
  private *pooledTxs(): Iterable<PooledTx> {
    const it = this.pool.pending();
    for (let tx = it.next(); tx !== undefined; tx = it.next()) yield tx;
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

  /** Equivocation evidence this node's consensus driver recorded. */
  evidence(): readonly Evidence[] {
    return this.driver.evidence.list();
  }

  private nextHeight(): number {
    return Number(this.chain.head().header.number) + 1;
  }

  private broadcast(msg: ConsensusMessage): void {
    const kind = msg.type === "proposal" ? "proposal" : "vote";
    this.p2p.publish(kind, encodeConsensusEnvelope(msg)).catch((err: unknown) => {
      this.log.debug("consensus gossip failed", { type: msg.type, err });
    });
  }

  private async submitTransaction(raw: Uint8Array): Promise<Hex> {
    // RPC traffic is public: admitted as remote (evictable, expiring), never as the operator's own.
    const [r] = await this.pool.addRemotes([raw], { origin: "rpc" });
    if (!r) throw new DseqError("NODE_SUBMIT", "no admission result");
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
        height: this.driver.height,
        round: this.driver.round,
        halted: this.driver.halted !== undefined,
      },
      address: this.address,
      chainId: this.spec.chainId,
      blockTimeMs: this.spec.blockTimeMs,
      highestPeerHead: sync.highestPeerHead,
      signer: this.isValidator && set.validators.some((v) => v.address === this.address),
      span: { index: span.index, startHeight: span.startHeight, endHeight: span.endHeight },
      nextSequencer,
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
    };
  }

  private registerDseqMethods(rpc: RpcServer): void {
    const json = (v: unknown): Json =>
      JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x))) as Json;
    rpc.registry.register(
      "dseq_syncStatus",
      method([], () =>
        json({
          ...this.syncStatus(),
          peers: this.p2p.peers().length,
          lastCommitAt: this.lastCommitAt,
          ...(this.l1 ? { l1: this.l1Status() } : {}),
        }),
      ),
    );
    rpc.registry.register(
      "dseq_validators",
      method([], () => {
        const set = this.schedule.validatorSetAt(this.nextHeight());
        return json({
          height: this.nextHeight(),
          totalPower: set.totalPower,
          validators: set.validators.map((v) => ({
            id: v.id,
            address: v.address,
            power: v.power,
            cappedStake: v.cappedStake,
            rewardRecipient: v.rewardRecipient,
            rewards: this.schedule.rewardsOf(v.id),
          })),
        });
      }),
    );
    rpc.registry.register(
      "dseq_currentSequencer",
      method([], () => {
        const r = this.schedule.reelectionState();
        return json({ ...r, height: this.nextHeight(), sequencer: this.currentSequencer() });
      }),
    );
    rpc.registry.register(
      "dseq_span",
      method([], () => {
        const s = this.schedule.currentSpan();
        return json({
          index: s.index,
          startHeight: s.startHeight,
          endHeight: s.endHeight,
          seedHeight: s.seedHeight,
          seed: s.seed,
          elections: s.elections,
          validators: s.validatorSet.validators.map((v) => v.address),
          rewardPerBlock: this.schedule.rewardPerBlock(),
        });
      }),
    );
  }
}
