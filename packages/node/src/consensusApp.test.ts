import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createNoopLogger, FakeClock, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import type { L1Event } from "@dseq/l1-bridge-listener";
import { type Chain, createChain } from "@dseq/l2-exec";
import type { CommitCertificate } from "@dseq/pos-consensus";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import { createTxPool, type TxPool } from "@dseq/txpool";
import { type Block, createBlockFromBytesArray } from "@ethereumjs/block";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { afterEach, describe, expect, it, vi } from "vitest";
import { encodeBlockExtra } from "./blockExtra.ts";
import type { BlockFragment } from "./blockStream.ts";
import { parseChainSpec } from "./chainSpec.ts";
import {
  type ConsensusAppOptions,
  createConsensusApp,
  defaultConsensusAppOptions,
  type NodeConsensusApp,
  nextHeightStartMs,
} from "./consensusApp.ts";
import { keyInfo } from "./keystore.ts";
import { L1EntryQueue } from "./l1EntryQueue.ts";
import { createPreconfStore, type PreconfStore } from "./preconf/index.ts";
import { rebuildSchedule } from "./rotation.ts";

const key = (label: string): Uint8Array => keccak256(new TextEncoder().encode(`dseq app test ${label}`));
const funded = key("funded");
const fundedAddress = keyInfo(funded).address.toLowerCase() as Hex;

type Harness = {
  app: NodeConsensusApp;
  chain: Chain;
  pool: TxPool;
  schedule: RotationSchedule;
  clock: FakeClock;
  validators: Hex[];
  /** Rounds the app asked the schedule about (proposerFor). */
  askedRounds: number[];
  streamed: string[];
  slotTs: bigint;
};

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A real chain (LevelDB in a temp dir), pool and rotation schedule; `self` indexes the validators. */
async function harness(opts: {
  validators: number;
  self: number | "proposer" | "other";
  app?: Partial<ConsensusAppOptions>;
  /** The app's clock at the start (default: now). */
  clockMs?: (genesisTs: number) => number;
  genesisTs?: number;
  stream?: (f: BlockFragment) => void;
  preconf?: PreconfStore;
  /** This node's L1 view (entries it has confirmed) and how long validation waits for more. */
  l1?: { queue: L1EntryQueue; verifyWaitMs: number };
  /** This node's p2p view of the validators (ADR 0191). */
  reachable?: (validator: Hex) => boolean;
}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "dseq-app-"));
  dirs.push(dir);
  const keys = Array.from({ length: opts.validators }, (_, i) => key(`validator ${i}`));
  const infos = keys.map((k) => keyInfo(k));
  // Genesis 60 s in the past: every slot is already due, so nothing waits on the clock.
  const genesisTs = opts.genesisTs ?? Math.floor(Date.now() / 1000) - 60;
  const spec = parseChainSpec({
    chainId: 1337,
    blockTimeMs: 2000,
    genesis: { timestamp: genesisTs, alloc: { [fundedAddress]: { balance: (10n ** 24n).toString() } } },
    validators: infos.map((info, i) => ({
      id: i + 1,
      owner: info.address.toLowerCase(),
      signer: info.address.toLowerCase(),
      signerPubkey: info.publicKey,
      locked: (50_000n * 10n ** 18n).toString(),
      rewardRecipient: info.address.toLowerCase(),
    })),
  });
  const chain = await createChain({
    dataDir: join(dir, "chain"),
    chainConfig: {
      chainId: 1337n,
      gasLimit: BigInt(spec.genesis.gasLimit),
      timestamp: BigInt(genesisTs),
      alloc: { [fundedAddress]: { balance: 10n ** 24n } },
    },
  });
  closers.push(() => chain.close());
  const schedule = await rebuildSchedule(spec, chain);
  const askedRounds: number[] = [];
  const proposerFor = schedule.proposerFor.bind(schedule);
  schedule.proposerFor = (height: number, round: number) => {
    askedRounds.push(round);
    return proposerFor(height, round);
  };
  const pool = createTxPool(
    { chainId: 1337n, accountSlots: 512 },
    {
      state: {
        getAccount: async (a) => {
          const acc = await chain.getAccount(a, "latest");
          return { nonce: acc?.nonce ?? 0n, balance: acc?.balance ?? 0n, hasCode: false };
        },
      },
    },
  );
  const head = chain.head();
  await pool.start({
    number: head.header.number,
    gasLimit: head.header.gasLimit,
    nextBaseFee: head.header.calcNextBaseFee(),
  });
  closers.push(async () => pool.stop());
  const validators = infos.map((i) => i.address.toLowerCase() as Hex);
  const proposer0 = schedule.proposerFor(1, 0);
  const self =
    opts.self === "proposer"
      ? proposer0
      : opts.self === "other"
        ? (validators.find((v) => v !== proposer0) as Hex)
        : (validators[opts.self] as Hex);
  askedRounds.length = 0;
  const clock = new FakeClock(opts.clockMs?.(genesisTs) ?? Date.now());
  const streamed: string[] = [];
  const app = createConsensusApp(
    { ...defaultConsensusAppOptions, ...opts.app },
    {
      chain,
      pool,
      schedule,
      self,
      clock,
      logger: createNoopLogger(),
      onCommitted: () => {},
      metrics: { build: () => {}, execute: () => {}, commit: () => {}, streamed: (r) => streamed.push(r) },
      ...(opts.stream ? { stream: { publish: opts.stream } } : {}),
      ...(opts.preconf ? { preconf: opts.preconf } : {}),
      ...(opts.l1 ? { l1: { ...opts.l1, nextEntry: 0n } } : {}),
      ...(opts.reachable ? { reachable: opts.reachable } : {}),
    },
  );
  return {
    app,
    chain,
    pool,
    schedule,
    clock,
    validators,
    askedRounds,
    streamed,
    slotTs: head.header.timestamp + 2n,
  };
}

function transfer(chain: Chain, n = 0n): Uint8Array {
  return createFeeMarket1559Tx(
    {
      chainId: 1337n,
      nonce: n,
      to: `0x${"22".repeat(20)}`,
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
    },
    { common: chain.common },
  )
    .sign(funded)
    .serialize();
}

/** A block on the head as `proposer` would build it for `round` (nothing is written). */
async function buildAs(h: Harness, proposer: Hex, round: number, txs: Uint8Array[] = []): Promise<Block> {
  const built = await h.chain.buildBlock({
    parent: h.chain.head(),
    txs,
    timestamp: h.slotTs,
    coinbase: proposer,
    extraData: encodeBlockExtra({ round, proposer }),
  });
  return built.block;
}

const asProposal = (b: Block) => ({ hash: bytesToHex(b.hash()), payload: b.serialize() });

describe("createConsensusApp: proposal checks with a real chain", () => {
  it("reports the round the block was built for, so consensus can match it to the proposal's", async () => {
    const h = await harness({ validators: 1, self: 0 });
    const self = h.validators[0] as Hex;
    const r = await h.app.validate(1, asProposal(await buildAs(h, self, 3)));
    expect(r).toEqual({ valid: true, round: 3 });
    const r0 = await h.app.validate(1, asProposal(await buildAs(h, self, 0)));
    expect(r0).toEqual({ valid: true, round: 0 });
  });

  it("refuses a round above maxRound without asking the schedule about it", async () => {
    const h = await harness({ validators: 1, self: 0, app: { maxRound: 1_000 } });
    const self = h.validators[0] as Hex;
    for (const round of [1_001, 0xffff_ffff]) {
      h.askedRounds.length = 0;
      // Ask the real schedule only for rounds it can answer cheaply: a call with the huge
      // round would allocate the proposer order up to it (out of memory).
      const r = await h.app.validate(1, asProposal(await buildAs(h, self, round)));
      expect(r.valid).toBe(false);
      expect(r.valid === false && r.reason).toMatch(/round/);
      expect(h.askedRounds.filter((x) => x > 1_000)).toEqual([]);
    }
  }, 60_000);

  it("re-execution catches a state root the transactions do not produce", async () => {
    const h = await harness({ validators: 1, self: 0 });
    const self = h.validators[0] as Hex;
    const honest = await buildAs(h, self, 0, [transfer(h.chain)]);
    const raw = honest.raw();
    const header = [...raw[0]];
    header[3] = keccak256(new TextEncoder().encode("another state"));
    const forged = createBlockFromBytesArray([header, ...raw.slice(1)] as typeof raw, {
      common: h.chain.common,
      setHardfork: true,
    });
    const r = await h.app.validate(1, asProposal(forged));
    expect(r.valid).toBe(false);
    expect(r.valid === false && r.reason).toMatch(/re-execution differs: .*stateRoot/);
    expect(await h.app.validate(1, asProposal(honest))).toEqual({ valid: true, round: 0 });
  });

  it("does not look at the validator's pool: an empty block is valid with emptyBlocks=false", async () => {
    const h = await harness({ validators: 1, self: 0, app: { emptyBlocks: false } });
    await h.pool.addRemote(transfer(h.chain));
    expect(h.pool.status().pending).toBe(1);
    const r = await h.app.validate(1, asProposal(await buildAs(h, h.validators[0] as Hex, 0)));
    expect(r).toEqual({ valid: true, round: 0 });
  });

  it("refuses a payload above maxBlockBytes before decoding it", async () => {
    const h = await harness({ validators: 1, self: 0, app: { maxBlockBytes: 4_096 } });
    const decode = vi.spyOn(h.chain, "decodeBlock");
    const r = await h.app.validate(1, { hash: `0x${"ab".repeat(32)}`, payload: new Uint8Array(4_097) });
    expect(r.valid).toBe(false);
    expect(r.valid === false && r.reason).toMatch(/bytes/);
    expect(decode).not.toHaveBeenCalled();
    // At the cap it is decoded (and found wanting for other reasons).
    await h.app.validate(1, { hash: `0x${"ab".repeat(32)}`, payload: new Uint8Array(4_096) });
    expect(decode).toHaveBeenCalledTimes(1);
  });

  it("fast path: a raced payload with the streamed block's hash but another body is not accepted", async () => {
    const h = await harness({ validators: 2, self: "other" });
    const proposer = h.schedule.proposerFor(1, 0);
    const tx = transfer(h.chain);
    h.app.onFragment({
      height: 1,
      parentHash: bytesToHex(h.chain.head().hash()),
      timestamp: h.slotTs,
      seq: 0,
      last: true,
      txs: [tx],
      signer: proposer,
    });
    const honest = await buildAs(h, proposer, 0, [tx]);
    const hash = bytesToHex(honest.hash());
    // Same header (so the same hash), no transactions: the body does not match the header.
    const raw = honest.raw();
    const raced = createBlockFromBytesArray([raw[0], [], raw[2], raw[3]] as unknown as typeof raw, {
      common: h.chain.common,
      setHardfork: true,
    }).serialize();
    const bad = await h.app.validate(1, { hash, payload: raced });
    expect(bad.valid).toBe(false);
    const garbage = await h.app.validate(1, { hash, payload: new Uint8Array([1, 2, 3]) });
    expect(garbage.valid).toBe(false);
    expect(h.streamed).not.toContain("hit");
    expect(await h.app.validate(1, { hash, payload: honest.serialize() })).toEqual({ valid: true, round: 0 });
    // The real proposal still takes the fast path: the raced ones did not spoil this node's build.
    expect(h.streamed.at(-1)).toBe("hit");
  });

  it("stream completed by the proposal: the exact proposal is a hit, another body under its hash is not", async () => {
    const h = await harness({ validators: 2, self: "other" });
    const proposer = h.schedule.proposerFor(1, 0);
    const tx0 = transfer(h.chain, 0n);
    const tx1 = transfer(h.chain, 1n);
    h.app.onFragment({
      height: 1,
      parentHash: bytesToHex(h.chain.head().hash()),
      timestamp: h.slotTs,
      seq: 0,
      last: false,
      txs: [tx0],
      signer: proposer,
    });
    const honest = await buildAs(h, proposer, 0, [tx0, tx1]);
    expect(await h.app.validate(1, asProposal(honest))).toEqual({ valid: true, round: 0 });
    expect(h.streamed).toEqual(["hit"]);
  });

  it("open block and stream: the proposer fills its block until the slot, a follower of its stream accepts it unexecuted", async () => {
    const g = Math.floor(Date.now() / 1000) - 60;
    // Height 1's slot (g + 2) is past, height 2's (g + 4) 1.5 s ahead: only height 2 is built open.
    const clockMs = () => (g + 4) * 1000 - 1_500;
    const fragments: BlockFragment[] = [];
    const p = await harness({
      validators: 2,
      self: "proposer",
      genesisTs: g,
      clockMs,
      stream: (f) => fragments.push(f),
    });
    const v = await harness({ validators: 2, self: "other", genesisTs: g, clockMs });
    const proposer = p.schedule.proposerFor(1, 0);
    expect(p.schedule.proposerFor(2, 0)).toBe(proposer);
    const b1 = await p.app.propose(1, 0);
    expect(await v.app.validate(1, b1)).toEqual({ valid: true, round: 0 });
    const cert1: CommitCertificate = {
      height: 1,
      round: 0,
      blockHash: b1.hash,
      signatures: [{ validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(64)}` }],
    };
    await p.app.commit(1, b1, cert1); // opens height 2's block
    await v.app.commit(1, b1, cert1);
    await p.pool.addRemote(transfer(p.chain, 0n));
    const proposal = p.app.propose(2, 0);
    for (let t = 0; t < 1_500; t += 10) {
      p.clock.advance(10);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    const b2 = await proposal;
    const block2 = p.chain.decodeBlock(b2.payload);
    expect(block2.transactions.length).toBe(1);
    expect(block2.header.timestamp).toBe(BigInt(g + 4));
    expect(fragments.length).toBeGreaterThan(0);
    expect(fragments.at(-1)?.last).toBe(true);
    for (const f of fragments) v.app.onFragment({ ...f, signer: proposer });
    expect(await v.app.validate(2, b2)).toEqual({ valid: true, round: 0 });
    expect(v.streamed).toEqual(["hit"]);
  });

  it("catching up (ADR 0187): a block opened after its slot streams the backlog, seals itself when the pool runs dry, keeps the slot's time; its follower accepts it unexecuted", async () => {
    // Genesis 60 s in the past: every slot is due, the chain is behind the clock.
    const g = Math.floor(Date.now() / 1000) - 60;
    const fragments: BlockFragment[] = [];
    const p = await harness({
      validators: 2,
      self: "proposer",
      genesisTs: g,
      stream: (f) => fragments.push(f),
    });
    const v = await harness({ validators: 2, self: "other", genesisTs: g });
    const proposer = p.schedule.proposerFor(1, 0);
    expect(p.schedule.proposerFor(2, 0)).toBe(proposer);
    const b1 = await p.app.propose(1, 0);
    const cert1: CommitCertificate = {
      height: 1,
      round: 0,
      blockHash: b1.hash,
      signatures: [{ validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(64)}` }],
    };
    for (let n = 0n; n < 5n; n++) await p.pool.addRemote(transfer(p.chain, n));
    expect(await v.app.validate(1, b1)).toEqual({ valid: true, round: 0 });
    await v.app.commit(1, b1, cert1);
    await p.app.commit(1, b1, cert1); // opens height 2's block although its slot is 56 s past
    // The fake clock never moves: the build ends because the pool ran dry, not at a time.
    const b2 = await p.app.propose(2, 0);
    const block2 = p.chain.decodeBlock(b2.payload);
    expect(block2.transactions.length).toBe(5);
    expect(block2.header.timestamp).toBe(BigInt(g + 4));
    expect(fragments.length).toBeGreaterThan(0);
    expect(fragments.every((f) => f.height === 2 && f.timestamp === BigInt(g + 4))).toBe(true);
    expect(fragments.at(-1)?.last).toBe(true);
    for (const f of fragments) v.app.onFragment({ ...f, signer: proposer });
    expect(await v.app.validate(2, b2)).toEqual({ valid: true, round: 0 });
    expect(v.streamed).toEqual(["hit"]);
  });

  it("catching up: the block ends at its window while transactions keep coming; the rest go to the next height", async () => {
    const g = Math.floor(Date.now() / 1000) - 60;
    const p = await harness({ validators: 2, self: "proposer", genesisTs: g, app: { catchUpStreamMs: 100 } });
    expect(p.schedule.proposerFor(2, 0)).toBe(p.schedule.proposerFor(1, 0));
    const b1 = await p.app.propose(1, 0);
    for (let n = 0n; n < 20n; n++) await p.pool.addRemote(transfer(p.chain, n));
    // Time passes as the build runs: 30 ms at every look at the clock.
    const now = p.clock.now.bind(p.clock);
    let passed = 0;
    p.clock.now = () => {
      passed += 30;
      return now() + passed;
    };
    await p.app.commit(1, b1, {
      height: 1,
      round: 0,
      blockHash: b1.hash,
      signatures: [{ validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(64)}` }],
    });
    const block2 = p.chain.decodeBlock((await p.app.propose(2, 0)).payload);
    expect(block2.transactions.length).toBeGreaterThan(0);
    expect(block2.transactions.length).toBeLessThan(20);
    expect(block2.header.timestamp).toBe(BigInt(g + 4));
  });

  it("stream fragments apply in seq order, whatever order they arrive in", async () => {
    const h = await harness({ validators: 2, self: "other" });
    const proposer = h.schedule.proposerFor(1, 0);
    const txs = [transfer(h.chain, 0n), transfer(h.chain, 1n), transfer(h.chain, 2n)];
    const base = {
      height: 1,
      parentHash: bytesToHex(h.chain.head().hash()),
      timestamp: h.slotTs,
      signer: proposer,
    };
    h.app.onFragment({ ...base, seq: 2, last: true, txs: [txs[2] as Uint8Array] });
    h.app.onFragment({ ...base, seq: 0, last: false, txs: [txs[0] as Uint8Array] });
    h.app.onFragment({ ...base, seq: 1, last: false, txs: [txs[1] as Uint8Array] });
    const honest = await buildAs(h, proposer, 0, txs);
    expect(await h.app.validate(1, asProposal(honest))).toEqual({ valid: true, round: 0 });
    expect(h.streamed).toEqual(["hit"]);
  });

  it("fragments from another signer, for another slot, or carrying a non-transaction are not followed", async () => {
    for (const bad of ["signer", "timestamp", "tx"] as const) {
      const h = await harness({ validators: 2, self: "other" });
      const proposer = h.schedule.proposerFor(1, 0);
      const other = h.validators.find((v) => v !== proposer) as Hex;
      const tx = transfer(h.chain, 0n);
      h.app.onFragment({
        height: 1,
        parentHash: bytesToHex(h.chain.head().hash()),
        seq: 0,
        last: true,
        timestamp: bad === "timestamp" ? h.slotTs + 1n : h.slotTs,
        txs: bad === "tx" ? [tx, new Uint8Array([0xde, 0xad])] : [tx],
        signer: bad === "signer" ? other : proposer,
      });
      const honest = await buildAs(h, proposer, 0, [tx]);
      expect(await h.app.validate(1, asProposal(honest))).toEqual({ valid: true, round: 0 });
      expect(h.streamed, bad).toEqual([]);
    }
  });

  it("commit does not sleep; startTime says when the next height starts (its slot minus 100 ms)", async () => {
    // The clock 1.5 s before the slot of height 2: the old commit slept ~1.4 s on it (it never moves).
    const h = await harness({ validators: 1, self: 0, clockMs: (g) => (g + 4) * 1000 - 1_500 });
    const self = h.validators[0] as Hex;
    const block = await buildAs(h, self, 0);
    const cb = asProposal(block);
    expect((await h.app.validate(1, cb)).valid).toBe(true);
    const nextSlotMs = Number(block.header.timestamp + 2n) * 1000;
    const cert: CommitCertificate = {
      height: 1,
      round: 0,
      blockHash: cb.hash,
      signatures: [{ validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(64)}` }],
    };
    const done = await Promise.race([
      h.app.commit(1, cb, cert).then(() => "committed"),
      new Promise((r) => setTimeout(() => r("still sleeping"), 5_000)),
    ]);
    expect(done).toBe("committed");
    expect(h.app.startTime(2)).toBe(nextSlotMs - 100);
    expect(h.app.startTime(3)).toBeUndefined(); // not the next height
  });
});

describe("createConsensusApp: fast failover (ADR 0191)", () => {
  it("a height whose round-0 proposer is unreachable starts now; a reachable one at its slot minus 100 ms", async () => {
    const unreachable = new Set<Hex>();
    // The clock 1.5 s before height 1's slot.
    const h = await harness({
      validators: 4,
      self: "other",
      clockMs: (g) => (g + 2) * 1000 - 1_500,
      genesisTs: Math.floor(Date.now() / 1000) + 10,
      reachable: (v) => !unreachable.has(v),
    });
    const slotMs = Number(h.slotTs) * 1000;
    expect(h.app.startTime(1)).toBe(slotMs - 100);
    unreachable.add(h.schedule.proposerFor(1, 0));
    expect(h.app.startTime(1)).toBe(h.clock.now());
    // Another validator being unreachable changes nothing.
    unreachable.clear();
    unreachable.add(h.validators.find((v) => v !== h.schedule.proposerFor(1, 0)) as Hex);
    expect(h.app.startTime(1)).toBe(slotMs - 100);
  });

  it("a round above 0 proposes up to 1 s before its slot, stamped with the slot; round 0 waits for the slot", async () => {
    const h = await harness({
      validators: 2,
      self: "proposer",
      clockMs: (g) => (g + 2) * 1000 - 1_500,
      genesisTs: Math.floor(Date.now() / 1000) + 10,
    });
    const slotMs = Number(h.slotTs) * 1000;
    let done = false;
    const proposal = h.app.propose(1, 1).then((p) => {
      done = true;
      return p;
    });
    await new Promise((r) => setTimeout(r, 20));
    h.clock.advance(499); // slot - 1001
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    h.clock.advance(1); // slot - 1000
    const block = h.chain.decodeBlock((await proposal).payload);
    expect(h.clock.now()).toBe(slotMs - 1_000);
    expect(block.header.timestamp).toBe(h.slotTs);

    const h0 = await harness({
      validators: 2,
      self: "proposer",
      clockMs: (g) => (g + 2) * 1000 - 1_500,
      genesisTs: Math.floor(Date.now() / 1000) + 10,
    });
    let done0 = false;
    const p0 = h0.app.propose(1, 0).then(() => {
      done0 = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    h0.clock.advance(1_400);
    await new Promise((r) => setTimeout(r, 20));
    expect(done0).toBe(false);
    h0.clock.advance(100);
    await p0;
    expect(h0.clock.now()).toBe(slotMs);
  });
});

describe("createConsensusApp: the proposer's block budget (ADR 0165)", () => {
  const fill = async (h: Harness, n: number): Promise<Uint8Array[]> => {
    const txs = Array.from({ length: n }, (_, i) => transfer(h.chain, BigInt(i)));
    for (const tx of txs) await h.pool.addRemote(tx);
    expect(h.pool.status().pending).toBe(n);
    return txs;
  };

  it("a block built at once (round 1) takes the whole pool within budget and only the floor of it on a tiny budget", async () => {
    const roomy = await harness({ validators: 2, self: "proposer" });
    await fill(roomy, 100);
    expect(roomy.chain.decodeBlock((await roomy.app.propose(1, 1)).payload).transactions).toHaveLength(100);
    const tight = await harness({ validators: 2, self: "proposer", app: { buildBudgetShare: 0.001 } });
    await fill(tight, 100);
    const b = tight.chain.decodeBlock((await tight.app.propose(1, 1)).payload);
    expect(b.transactions).toHaveLength(64);
    // The pool's order is kept: the first 64 nonces.
    expect(b.transactions.map((tx) => tx.nonce)).toEqual(Array.from({ length: 64 }, (_, i) => BigInt(i)));
  });

  it("is a proposer preference only: a validator on a tiny budget still accepts a larger block", async () => {
    const v = await harness({ validators: 2, self: "other", app: { buildBudgetShare: 0.001 } });
    const proposer = v.schedule.proposerFor(1, 1);
    const txs = Array.from({ length: 100 }, (_, i) => transfer(v.chain, BigInt(i)));
    const block = await buildAs(v, proposer, 1, txs);
    expect(block.transactions).toHaveLength(100);
    expect(await v.app.validate(1, asProposal(block))).toEqual({ valid: true, round: 1 });
  });
});

describe("nextHeightStartMs", () => {
  it("is the slot after the parent minus 100 ms, past or at most a block time away", () => {
    // Parent at 1000 s, 2 s blocks: the next height starts at 1001.9 s.
    expect(nextHeightStartMs(1_000n, 2_000, 1_000_500)).toBe(1_001_900);
    expect(nextHeightStartMs(1_000n, 2_000, 1_005_000)).toBe(1_001_900); // past: at once
    expect(nextHeightStartMs(1_000n, 2_000, 999_900)).toBe(1_001_900); // exactly a block time away
    // A clock more than a block time behind the chain does not stall it.
    expect(nextHeightStartMs(1_000n, 2_000, 999_899)).toBeUndefined();
    // A block made up to leadMs early (a later round, ADR 0191) is not a clock behind the chain.
    expect(nextHeightStartMs(1_000n, 2_000, 998_900, 1_000)).toBe(1_001_900);
    expect(nextHeightStartMs(1_000n, 2_000, 998_899, 1_000)).toBeUndefined();
  });
});

describe("createConsensusApp: preconfirmations (ADR 0172, 0173)", () => {
  const hashOf = (raw: Uint8Array): Hex => bytesToHex(keccak256(raw));
  const promise = (h: Harness, store: PreconfStore, signer: Hex, txs: Uint8Array[], follow: boolean) => {
    const f = {
      height: 1,
      parentHash: bytesToHex(h.chain.head().hash()),
      timestamp: h.slotTs,
      seq: 0,
      last: false,
    };
    if (follow) h.app.onFragment({ ...f, txs, signer });
    store.add({
      ...f,
      round: 0,
      signer,
      txs,
      txHashes: txs.map(hashOf),
      raw: Uint8Array.from(txs.flatMap((t) => [...t])),
    });
  };

  it("a validator that followed the stream refuses a proposal of the same proposer that drops or reorders a preconfirmed tx", async () => {
    const store = createPreconfStore();
    const h = await harness({ validators: 2, self: "other", preconf: store });
    const proposer = h.schedule.proposerFor(1, 0);
    const txs = [transfer(h.chain, 0n), transfer(h.chain, 1n)];
    promise(h, store, proposer, txs, true);
    const dropped = await h.app.validate(
      1,
      asProposal(await buildAs(h, proposer, 0, [txs[0] as Uint8Array])),
    );
    expect(dropped.valid === false && dropped.reason).toMatch(/breaks its preconfirmations: drops/);
    const reordered = await h.app.validate(
      1,
      asProposal(await buildAs(h, proposer, 0, [txs[1] as Uint8Array, txs[0] as Uint8Array])),
    );
    expect(reordered.valid === false && reordered.reason).toMatch(/breaks its preconfirmations/);
    const kept = await h.app.validate(
      1,
      asProposal(await buildAs(h, proposer, 0, [...txs, transfer(h.chain, 2n)])),
    );
    expect(kept).toEqual({ valid: true, round: 0 });
  });

  it("the promise binds its proposer only: another proposer's block without the prefix is still valid", async () => {
    const store = createPreconfStore();
    const h = await harness({ validators: 2, self: "other", preconf: store });
    const proposer = h.schedule.proposerFor(1, 0);
    promise(h, store, proposer, [transfer(h.chain, 0n)], false);
    const next = h.schedule.proposerFor(1, 1);
    expect(next).not.toBe(proposer);
    expect(await h.app.validate(1, asProposal(await buildAs(h, next, 1, [])))).toEqual({
      valid: true,
      round: 1,
    });
  });

  it("failover: the next proposer of the height builds on the longest preconfirmed prefix, even with an empty pool", async () => {
    const store = createPreconfStore();
    const h = await harness({ validators: 2, self: "other", preconf: store });
    const proposer = h.schedule.proposerFor(1, 0);
    const self = h.schedule.proposerFor(1, 1);
    expect(self).not.toBe(proposer);
    const txs = [transfer(h.chain, 0n), transfer(h.chain, 1n)];
    promise(h, store, proposer, txs, false);
    expect(h.pool.status().pending).toBe(0);
    const b = h.chain.decodeBlock((await h.app.propose(1, 1)).payload);
    expect(b.transactions.map((tx) => bytesToHex(tx.hash()))).toEqual(txs.map(hashOf));
    // Round 0 never builds on someone else's stream.
    const b0 = h.chain.decodeBlock((await h.app.propose(1, 0)).payload);
    expect(b0.transactions).toHaveLength(0);
  });
});

describe("createConsensusApp: L1 entries against this validator's own L1 view", () => {
  let seq = 0;
  const depositEvent = (amountGwei: bigint): L1Event => ({
    type: "deposit",
    seq: seq++,
    nonce: BigInt(seq),
    from: `0x${"aa".repeat(20)}`,
    to: `0x${"bb".repeat(20)}`,
    amount: amountGwei * 10n ** 9n,
    l1: {
      blockNumber: 10n,
      blockHash: `0x${"cc".repeat(32)}`,
      logIndex: seq,
      transactionHash: `0x${"dd".repeat(32)}`,
      address: `0x${"ee".repeat(20)}`,
    },
  });

  /** The round-0 proposer's block of height 1, built with one deposit its L1 view confirmed. */
  async function proposalWithDeposit(genesisTs: number): Promise<{ hash: Hex; payload: Uint8Array }> {
    const queue = new L1EntryQueue(createNoopLogger());
    queue.onEvent(depositEvent(7n));
    const p = await harness({ validators: 4, self: "proposer", genesisTs, l1: { queue, verifyWaitMs: 0 } });
    const proposal = await p.app.propose(1, 0);
    expect(p.chain.decodeBlock(proposal.payload).withdrawals?.length ?? 0).toBeGreaterThan(0); // it carries the deposit
    return proposal;
  }

  it("a validator whose L1 lags waits at most verifyWaitMs, then refuses (a nil prevote), and does not throw", async () => {
    const genesisTs = Math.floor(Date.now() / 1000) - 60;
    const proposal = await proposalWithDeposit(genesisTs);
    const lagging = new L1EntryQueue(createNoopLogger());
    const v = await harness({
      validators: 4,
      self: "other",
      genesisTs,
      l1: { queue: lagging, verifyWaitMs: 300 },
    });
    const t0 = performance.now();
    const verdict = await v.app.validate(1, proposal);
    const waited = performance.now() - t0;
    expect(verdict.valid).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(5_000);
  });

  it("the entry confirmed during the wait makes the same proposal valid", async () => {
    const genesisTs = Math.floor(Date.now() / 1000) - 60;
    const proposal = await proposalWithDeposit(genesisTs);
    const catchingUp = new L1EntryQueue(createNoopLogger());
    const v = await harness({
      validators: 4,
      self: "other",
      genesisTs,
      l1: { queue: catchingUp, verifyWaitMs: 10_000 },
    });
    setTimeout(() => catchingUp.onEvent(depositEvent(7n)), 100);
    const t0 = performance.now();
    const verdict = await v.app.validate(1, proposal);
    expect(verdict.valid).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5_000); // woken by the entry, not the 10 s wait
  });

  it("an entry that differs from this validator's L1 view is refused at once", async () => {
    const genesisTs = Math.floor(Date.now() / 1000) - 60;
    const proposal = await proposalWithDeposit(genesisTs);
    const other = new L1EntryQueue(createNoopLogger());
    other.onEvent(depositEvent(8n)); // another amount at index 0
    const v = await harness({
      validators: 4,
      self: "other",
      genesisTs,
      l1: { queue: other, verifyWaitMs: 10_000 },
    });
    const t0 = performance.now();
    const verdict = await v.app.validate(1, proposal);
    expect(verdict.valid).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
