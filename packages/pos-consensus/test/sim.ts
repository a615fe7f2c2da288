// In-process simulation: N validators over an in-memory network with seeded random delay,
// loss, duplication and partitions, on a discrete-event clock. Real drivers, real cores,
// real signatures; the WAL and guard are the in-memory implementations unless a test gives
// file-backed ones.
import { bytesToHex, type Clock, concatBytes, type Hex, seededRandom, uintToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import {
  type BlockFetcher,
  type ConsensusApp,
  ConsensusDriver,
  type ConsensusDriverOptions,
  type CrashPoint,
} from "../src/consensusDriver.ts";
import { DoubleSignGuard, type GuardStore, memoryGuardStore } from "../src/doubleSignGuard.ts";
import { createKeySigner, type VerifyFn } from "../src/signer.ts";
import type { Block, CommitCertificate, ConsensusMessage, TimeoutConfig } from "../src/types.ts";
import { createStaticValidatorSource, type ProposerOrder } from "../src/validatorSet.ts";
import { MemoryWal, type Wal } from "../src/wal.ts";
import { CHAIN_ID, makeValidators, type TestValidators } from "./fixtures.ts";

/** A discrete-event clock: timers in a binary heap, time jumps to the next one. */
export class SimClock implements Clock {
  private time = 0;
  private seq = 0;
  private heap: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const t = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.push(t);
    return () => {
      t.live = false;
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }

  /** Fires the next live timer; false when none is left. */
  runNext(): boolean {
    for (;;) {
      const t = this.pop();
      if (!t) return false;
      if (!t.live) continue;
      this.time = t.at;
      t.fn();
      return true;
    }
  }

  private push(t: (typeof this.heap)[number]): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): (typeof this.heap)[number] | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export const rng = seededRandom;

export type Partition = { from: number; to: number; groups: number[][] };

export type NetworkOptions = {
  seed: number;
  minDelayMs: number;
  maxDelayMs: number;
  loss: number;
  duplicate: number;
  partitions: Partition[];
  /** Gossip relay: a node forwards each message it sees for the first time (gossipsub). */
  relay: boolean;
};

export type Endpoint = { id: number; deliver(msg: ConsensusMessage): void };

export function messageId(m: ConsensusMessage): string {
  switch (m.type) {
    case "vote":
      return `v${m.vote.signature}${m.vote.blockHash}`;
    case "proposal":
      return `p${m.proposal.signature}`;
    case "certificate":
      return `c${m.certificate.height}:${m.certificate.blockHash}:${m.certificate.signatures.length}`;
  }
}

export class SimNetwork {
  readonly clock: SimClock;
  private readonly opts: NetworkOptions;
  private readonly random: () => number;
  private readonly endpoints = new Map<number, Endpoint>();
  private readonly seen = new Map<number, Set<string>>();
  delivered = 0;
  dropped = 0;
  /** Called for every message sent, before its fate is drawn. */
  readonly taps: ((from: number, msg: ConsensusMessage) => void)[] = [];

  constructor(clock: SimClock, opts: Partial<NetworkOptions> = {}) {
    this.clock = clock;
    this.opts = {
      seed: 1,
      minDelayMs: 1,
      maxDelayMs: 10,
      loss: 0,
      duplicate: 0,
      partitions: [],
      relay: false,
      ...opts,
    };
    this.random = rng(this.opts.seed);
  }

  attach(ep: Endpoint): void {
    this.endpoints.set(ep.id, ep);
    this.seen.set(ep.id, new Set());
  }

  detach(id: number): void {
    this.endpoints.delete(id);
  }

  reachable(a: number, b: number): boolean {
    if (a === b) return true;
    const now = this.clock.now();
    for (const p of this.opts.partitions) {
      if (now < p.from || now >= p.to) continue;
      const ga = p.groups.findIndex((g) => g.includes(a));
      const gb = p.groups.findIndex((g) => g.includes(b));
      if (ga !== gb) return false;
    }
    return true;
  }

  /** Sends to every other endpoint (or only `to`), each copy with its own fate. */
  send(from: number, msg: ConsensusMessage, to?: number[]): void {
    for (const tap of this.taps) tap(from, msg);
    for (const id of to ?? [...this.endpoints.keys()]) {
      if (id === from) continue;
      this.sendOne(from, id, msg);
    }
  }

  private sendOne(from: number, to: number, msg: ConsensusMessage): void {
    const copies = this.random() < this.opts.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      if (this.random() < this.opts.loss) {
        this.dropped++;
        continue;
      }
      const delay = this.opts.minDelayMs + this.random() * (this.opts.maxDelayMs - this.opts.minDelayMs);
      this.clock.setTimeout(() => {
        // The link is judged on arrival: a partition that starts in flight cuts the message.
        if (!this.reachable(from, to)) {
          this.dropped++;
          return;
        }
        const ep = this.endpoints.get(to);
        if (!ep) return;
        this.delivered++;
        if (this.opts.relay) {
          const seen = this.seen.get(to)!;
          const id = messageId(msg);
          if (seen.has(id)) return;
          seen.add(id);
          ep.deliver(msg);
          this.send(to, msg);
        } else {
          ep.deliver(msg);
        }
      }, delay);
    }
  }
}

/** Block payload: height, proposer index, a nonce; hash = keccak256(payload). */
export function makeSimBlock(height: number, proposer: number, nonce: number): Block {
  const payload = concatBytes(uintToBytes(height, 8), uintToBytes(proposer, 4), uintToBytes(nonce, 4));
  return { hash: bytesToHex(keccak256(payload)), payload };
}

export function simBlockHeight(block: Block): number {
  return Number(new DataView(block.payload.buffer, block.payload.byteOffset).getBigUint64(0));
}

export type SimNode = {
  index: number;
  address: Hex;
  driver: ConsensusDriver;
  decided: Map<number, Block>;
  certificates: Map<number, CommitCertificate>;
  wal: Wal;
  guardStore: GuardStore;
};

export type SimOptions = {
  n: number;
  seed?: number;
  network?: Partial<NetworkOptions>;
  timeouts?: TimeoutConfig;
  driver?: Partial<ConsensusDriverOptions>;
  proposerOrder?: ProposerOrder;
  /** Validators by index that are not run as honest drivers (a test plays them). */
  byzantine?: number[];
  verify?: VerifyFn;
};

export const simTimeouts: TimeoutConfig = {
  propose: 100,
  proposeDelta: 50,
  prevote: 50,
  prevoteDelta: 25,
  precommit: 50,
  precommitDelta: 25,
};

/** A set of honest validators and the world they live in. */
export class Simulation {
  readonly clock = new SimClock();
  readonly net: SimNetwork;
  readonly tv: TestValidators;
  readonly nodes: (SimNode | undefined)[] = [];
  /** Every block an honest application proposed or a test injected as proposed. */
  readonly proposed = new Map<Hex, Block>();
  readonly opts: SimOptions;
  private nonce = 0;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.tv = makeValidators(opts.n, opts.seed ?? 1);
    this.net = new SimNetwork(this.clock, { seed: opts.seed ?? 1, ...opts.network });
  }

  get honest(): SimNode[] {
    return this.nodes.filter((n): n is SimNode => n !== undefined);
  }

  /** Makes (or remakes, after a crash) node `i` over the given WAL and guard store. */
  async startNode(
    i: number,
    store: { wal?: Wal; guardStore?: GuardStore; crashHook?: (p: CrashPoint) => void } = {},
    prev?: SimNode,
  ): Promise<SimNode> {
    const signer = createKeySigner(this.tv.keys[i]!);
    const decided = prev?.decided ?? new Map<number, Block>();
    const certificates = prev?.certificates ?? new Map<number, CommitCertificate>();
    const wal = store.wal ?? new MemoryWal();
    const guardStore = store.guardStore ?? memoryGuardStore();
    const app: ConsensusApp = {
      propose: async (height) => {
        const b = makeSimBlock(height, i, this.nonce++);
        this.proposed.set(b.hash, b);
        return b;
      },
      validate: async (height, block) => simValidate(height, block),
      commit: async (height, block, certificate) => {
        const last = decided.size;
        if (decided.has(height)) throw new Error(`node ${i} committed height ${height} twice`);
        if (height !== last + 1) throw new Error(`node ${i} committed ${height} after ${last}`);
        decided.set(height, block);
        certificates.set(height, certificate);
      },
    };
    const fetcher: BlockFetcher = {
      fetchBlock: async (height, hash) => {
        for (const peer of this.honest) {
          if (peer.index === i || !this.net.reachable(i, peer.index)) continue;
          const b = peer.decided.get(height);
          if (b?.hash === hash) return b;
        }
        const b = this.proposed.get(hash);
        return b && simBlockHeight(b) === height ? b : undefined;
      },
      fetchCommitted: async (height) => {
        for (const peer of this.honest) {
          if (peer.index === i || !this.net.reachable(i, peer.index)) continue;
          const block = peer.decided.get(height);
          const certificate = peer.certificates.get(height);
          if (block && certificate) return { block, certificate };
        }
        return undefined;
      },
    };
    const driver = new ConsensusDriver(
      {
        chainId: CHAIN_ID,
        timeouts: this.opts.timeouts ?? simTimeouts,
        rebroadcastMs: 200,
        ...this.opts.driver,
      },
      {
        app,
        validators: createStaticValidatorSource(this.tv.set, this.opts.proposerOrder ?? "roundRobin"),
        network: { broadcast: (msg) => this.net.send(i, msg) },
        fetcher,
        wal,
        signer,
        guard: await DoubleSignGuard.open(guardStore),
        clock: this.clock,
        ...(this.opts.verify ? { verify: this.opts.verify } : {}),
        ...(store.crashHook ? { crashHook: store.crashHook } : {}),
      },
    );
    const node: SimNode = {
      index: i,
      address: signer.address,
      driver,
      decided,
      certificates,
      wal,
      guardStore,
    };
    this.nodes[i] = node;
    this.net.attach({ id: i, deliver: (msg) => node.driver.receive(msg) });
    await driver.start(decided.size + 1);
    return node;
  }

  async startAll(): Promise<void> {
    for (let i = 0; i < this.opts.n; i++) if (!this.opts.byzantine?.includes(i)) await this.startNode(i);
  }

  async settle(): Promise<void> {
    for (;;) {
      // Drivers only wake each other through the network, i.e. through clock timers, so one
      // pass of "everyone idle" is a quiescent point (the loop re-checks to be sure).
      await Promise.all(this.honest.map((n) => n.driver.whenIdle()));
      if (this.honest.every((n) => n.driver.halted !== undefined || n.driver.idle)) return;
    }
  }

  /** Runs events until `done()` or the simulated time limit. */
  async runUntil(done: () => boolean, limitMs: number): Promise<void> {
    await this.settle();
    while (!done()) {
      if (this.clock.now() > limitMs) throw new Error(`simulation time limit ${limitMs} ms reached`);
      if (!this.clock.runNext()) throw new Error("simulation ran out of events");
      await this.settle();
    }
  }

  minHeight(): number {
    return Math.min(...this.honest.map((n) => n.decided.size));
  }

  async stop(): Promise<void> {
    for (const n of this.honest) await n.driver.stop();
  }
}

export async function simValidate(
  height: number,
  block: Block,
): Promise<{ valid: true } | { valid: false; reason: string }> {
  if (block.payload.length !== 16) return { valid: false, reason: "bad payload length" };
  if (bytesToHex(keccak256(block.payload)) !== block.hash) return { valid: false, reason: "hash mismatch" };
  if (simBlockHeight(block) !== height) return { valid: false, reason: "wrong height" };
  return { valid: true };
}
