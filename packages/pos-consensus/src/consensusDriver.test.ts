import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetrics, type Metrics } from "@dseq/common";
import { afterEach, describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  makeValidators,
  signProposal,
  signVote,
  votesOf,
} from "../test/fixtures.ts";
import { makeSimBlock, SimClock, simTimeouts, simValidate } from "../test/sim.ts";
import { type BlockFetcher, type ConsensusApp, ConsensusDriver } from "./consensusDriver.ts";
import { DoubleSignGuard, type GuardStore, memoryGuardStore } from "./doubleSignGuard.ts";
import { createKeySigner } from "./signer.ts";
import { type Block, type CommitCertificate, type ConsensusMessage, MsgType, Step } from "./types.ts";
import { createStaticValidatorSource } from "./validatorSet.ts";
import { FileWal, MemoryWal, type Wal, type WalRecord } from "./wal.ts";

// Validator 0 runs the driver; round r of height h is proposed by (h + r) mod 4.
const tv = makeValidators(4);
const ME = 0;

type Harness = {
  driver: ConsensusDriver;
  clock: SimClock;
  sent: ConsensusMessage[];
  log: string[];
  committed: Map<number, { block: Block; certificate: CommitCertificate }>;
  metrics: Metrics;
};

/** A WAL that tells the shared log what it writes (and whether it fsyncs). */
function loggingWal(inner: Wal, log: string[]): Wal {
  return {
    get size() {
      return inner.size;
    },
    async append(r: WalRecord, sync: boolean) {
      await inner.append(r, sync);
      log.push(`wal:${describe_(r)}:${sync ? "sync" : "nosync"}`);
    },
    records: () => inner.records(),
    replace: (rs) => inner.replace(rs),
    close: () => inner.close(),
  };
}

function describe_(r: WalRecord): string {
  if (r.kind === "endHeight") return `endHeight(${r.height})`;
  const i = r.input;
  if (i.type === "vote")
    return `vote(${i.vote.validator === tv.addresses[ME] ? "own" : "peer"},${i.vote.type})`;
  if (i.type === "proposal") return "proposal";
  return i.type;
}

async function makeDriver(
  opts: {
    wal?: Wal;
    guardStore?: GuardStore;
    clock?: SimClock;
    queueSize?: number;
    fetcher?: BlockFetcher;
    log?: string[];
    validate?: ConsensusApp["validate"];
    rebroadcastMs?: number;
    commitDelayMs?: number;
  } = {},
): Promise<Harness> {
  const clock = opts.clock ?? new SimClock();
  const sent: ConsensusMessage[] = [];
  const log = opts.log ?? [];
  const committed = new Map<number, { block: Block; certificate: CommitCertificate }>();
  const metrics = createMetrics();
  const app: ConsensusApp = {
    propose: async (h) => makeSimBlock(h, ME, 0),
    validate: opts.validate ?? (async (h, b) => simValidate(h, b)),
    commit: async (h, block, certificate) => {
      log.push(`app:commit(${h})`);
      committed.set(h, { block, certificate });
    },
  };
  const driver = new ConsensusDriver(
    {
      chainId: CHAIN_ID,
      timeouts: simTimeouts,
      rebroadcastMs: opts.rebroadcastMs ?? 10_000,
      commitDelayMs: opts.commitDelayMs ?? 0,
      queueSize: opts.queueSize ?? 100,
    },
    {
      app,
      validators: createStaticValidatorSource(tv.set, "roundRobin"),
      network: {
        broadcast: (m) => {
          sent.push(m);
          log.push(`broadcast:${m.type}`);
        },
      },
      fetcher: opts.fetcher ?? { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
      wal: loggingWal(opts.wal ?? new MemoryWal(), log),
      signer: createKeySigner(tv.keys[ME]!),
      guard: await DoubleSignGuard.open(opts.guardStore ?? memoryGuardStore()),
      clock,
      metrics,
    },
  );
  return { driver, clock, sent, log, committed, metrics };
}

const block1 = makeSimBlock(1, 1, 42);
const proposal1 = () => ({
  type: "proposal" as const,
  proposal: signProposal(tv.keys[1]!, tv.addresses[1]!, 1, 0, -1, block1.hash),
  block: block1,
});
const ownVotes = (h: Harness, type: number) =>
  h.sent.filter((m) => m.type === "vote" && m.vote.validator === tv.addresses[ME] && m.vote.type === type);

describe("ConsensusDriver", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("writes inputs to the WAL before acting, fsyncs own votes before broadcasting them, ends the height after commit", async () => {
    const h = await makeDriver();
    await h.driver.start(1);
    h.driver.receive(proposal1());
    await h.driver.whenIdle();
    for (const vote of votesOf(tv, [1, 2], MsgType.Prevote, 1, 0, block1.hash))
      h.driver.receive({ type: "vote", vote });
    await h.driver.whenIdle();
    for (const vote of votesOf(tv, [1, 2], MsgType.Precommit, 1, 0, block1.hash))
      h.driver.receive({ type: "vote", vote });
    await h.driver.whenIdle();
    expect(h.committed.get(1)?.block.hash).toBe(block1.hash);
    expect(h.driver.height).toBe(2);
    const ownPrevoteWal = h.log.indexOf(`wal:vote(own,${MsgType.Prevote}):sync`);
    const ownPrecommitWal = h.log.indexOf(`wal:vote(own,${MsgType.Precommit}):sync`);
    expect(ownPrevoteWal).toBeGreaterThan(h.log.indexOf("wal:proposal:nosync"));
    expect(h.log[ownPrevoteWal + 1]).toBe("broadcast:vote");
    expect(h.log[ownPrecommitWal + 1]).toBe("broadcast:vote");
    // Peer votes are logged (not fsynced) before they are acted on.
    expect(h.log.filter((l) => l === `wal:vote(peer,${MsgType.Prevote}):nosync`)).toHaveLength(2);
    const commitAt = h.log.indexOf("app:commit(1)");
    expect(h.log.slice(commitAt, commitAt + 3)).toEqual([
      "app:commit(1)",
      "wal:endHeight(1):sync",
      "broadcast:certificate",
    ]);
    expect(ownVotes(h, MsgType.Prevote)).toHaveLength(1);
    await h.driver.stop();
  });

  it("replays its WAL on restart: same round and step, nothing signed twice", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dseq-driver-"));
    dirs.push(dir);
    const guardStore = memoryGuardStore();
    const h1 = await makeDriver({ wal: await FileWal.open(join(dir, "wal")), guardStore });
    await h1.driver.start(1);
    h1.driver.receive(proposal1());
    await h1.driver.whenIdle();
    expect(h1.driver.step).toBe(Step.Prevote);
    await h1.driver.stop();
    const h2 = await makeDriver({ wal: await FileWal.open(join(dir, "wal")), guardStore, clock: h1.clock });
    await h2.driver.start(1);
    await h2.driver.whenIdle();
    expect(h2.driver.round).toBe(0);
    expect(h2.driver.step).toBe(Step.Prevote);
    expect(ownVotes(h2, MsgType.Prevote)).toEqual([]); // the vote is in the WAL, not signed again
    // The replayed node goes on from there.
    for (const vote of votesOf(tv, [1, 2], MsgType.Prevote, 1, 0, block1.hash))
      h2.driver.receive({ type: "vote", vote });
    await h2.driver.whenIdle();
    expect(ownVotes(h2, MsgType.Precommit)).toHaveLength(1);
    await h2.driver.stop();
  });

  it("the guard refuses a conflicting vote after the WAL was lost", async () => {
    const guardStore = memoryGuardStore();
    const h1 = await makeDriver({ guardStore });
    await h1.driver.start(1);
    h1.driver.receive(proposal1());
    await h1.driver.whenIdle();
    expect(ownVotes(h1, MsgType.Prevote)).toHaveLength(1);
    await h1.driver.stop();
    // Restart with an empty WAL: the core knows nothing and would prevote nil on timeout.
    const h2 = await makeDriver({ guardStore, clock: h1.clock });
    const refused: unknown[] = [];
    h2.driver.events.on("consensus.signRefused", (e) => {
      refused.push(e);
    });
    await h2.driver.start(1);
    for (let i = 0; i < 5 && h2.clock.runNext(); i++) await h2.driver.whenIdle();
    expect(h2.driver.step).toBe(Step.Prevote);
    expect(ownVotes(h2, MsgType.Prevote)).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(refused).toEqual([{ height: 1, round: 0, type: MsgType.Prevote, reason: expect.any(String) }]);
    expect(await h2.metrics.values("dseq_consensus_sign_refused_total")).toEqual([{ labels: {}, value: 1 }]);
    await h2.driver.stop();
  });

  it("retries a validation call that failed (an error is not a no)", async () => {
    let calls = 0;
    const h = await makeDriver({
      validate: async (height, b) => {
        if (++calls === 1) throw new Error("executor busy");
        return simValidate(height, b);
      },
      rebroadcastMs: 40, // the retry comes after this, before timeoutPropose (100 ms)
    });
    await h.driver.start(1);
    h.driver.receive(proposal1());
    await h.driver.whenIdle();
    expect(ownVotes(h, MsgType.Prevote)).toEqual([]);
    while (calls < 2 && h.clock.now() < 100 && h.clock.runNext()) await h.driver.whenIdle();
    await h.driver.whenIdle();
    expect(calls).toBe(2);
    expect(ownVotes(h, MsgType.Prevote).map((m) => m.type === "vote" && m.vote.blockHash)).toEqual([
      block1.hash,
    ]);
    await h.driver.stop();
  });

  it("waits commitDelayMs after a commit before starting the next height", async () => {
    const h = await makeDriver({ commitDelayMs: 1_500 });
    await h.driver.start(1);
    h.driver.receive(proposal1());
    await h.driver.whenIdle();
    for (const vote of votesOf(tv, [1, 2, 3], MsgType.Precommit, 1, 0, block1.hash))
      h.driver.receive({ type: "vote", vote });
    await h.driver.whenIdle();
    expect(h.committed.has(1)).toBe(true);
    const committedAt = h.clock.now();
    expect(h.driver.height).toBe(1);
    // A vote of height 2 arriving meanwhile waits in the buffer.
    h.driver.receive({
      type: "vote",
      vote: signVote(tv.keys[2]!, tv.addresses[2]!, MsgType.Prevote, 2, 0, null),
    });
    const rounds: number[] = [];
    h.driver.events.on("consensus.newRound", ({ height }) => {
      rounds.push(height);
    });
    while (h.driver.height === 1 && h.clock.runNext()) await h.driver.whenIdle();
    expect(h.clock.now() - committedAt).toBe(1_500);
    expect(h.driver.height).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(rounds).toEqual([2]);
    await h.driver.stop();
  });

  it("follows without a key: decides from the others' votes, never signs", async () => {
    const sent: ConsensusMessage[] = [];
    const committed: number[] = [];
    const clock = new SimClock();
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, timeouts: simTimeouts },
      {
        app: {
          propose: async () => {
            throw new Error("a follower never proposes");
          },
          validate: async (height, b) => simValidate(height, b),
          commit: async (height) => {
            committed.push(height);
          },
        },
        validators: createStaticValidatorSource(tv.set, "roundRobin"),
        network: { broadcast: (m) => sent.push(m) },
        fetcher: { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
        wal: new MemoryWal(),
        signer: null,
        guard: null,
        clock,
      },
    );
    await driver.start(1);
    driver.receive(proposal1());
    for (const vote of votesOf(tv, [1, 2, 3], MsgType.Precommit, 1, 0, block1.hash))
      driver.receive({ type: "vote", vote });
    await driver.whenIdle();
    expect(committed).toEqual([1]);
    expect(sent.filter((m) => m.type !== "certificate")).toEqual([]);
    await driver.stop();
  });

  it("halts loudly when the application cannot commit a decided block", async () => {
    const clock = new SimClock();
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, timeouts: simTimeouts },
      {
        app: {
          propose: async (height) => makeSimBlock(height, ME, 0),
          validate: async (height, b) => simValidate(height, b),
          commit: async () => {
            throw new Error("disk full");
          },
        },
        validators: createStaticValidatorSource(tv.set, "roundRobin"),
        network: { broadcast: () => {} },
        fetcher: { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
        wal: new MemoryWal(),
        signer: null,
        guard: null,
        clock,
      },
    );
    const halted: string[] = [];
    driver.events.on("consensus.halted", ({ reason }) => {
      halted.push(reason);
    });
    await driver.start(1);
    driver.receive(proposal1());
    for (const vote of votesOf(tv, [1, 2, 3], MsgType.Precommit, 1, 0, block1.hash))
      driver.receive({ type: "vote", vote });
    await driver.whenIdle();
    expect(driver.halted).toBeInstanceOf(Error);
    expect(driver.height).toBe(1);
    expect(driver.receive(proposal1())).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(halted).toEqual(["disk full"]);
    await driver.stop();
  });

  it("the WAL forgets a height only after the app's commit resolved (a power cut before loses nothing)", async () => {
    const log: string[] = [];
    const wal = new MemoryWal();
    let release: () => void = () => {};
    const durable = new Promise<void>((r) => {
      release = r;
    });
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, timeouts: simTimeouts, walMaxBytes: 1 }, // compact after every height
      {
        app: {
          propose: async (height) => makeSimBlock(height, ME, 0),
          validate: async (height, b) => simValidate(height, b),
          commit: async (height) => {
            log.push(`app:commit(${height}) started`);
            await durable; // the chain store's fsync
            log.push(`app:commit(${height}) durable`);
          },
        },
        validators: createStaticValidatorSource(tv.set, "roundRobin"),
        network: { broadcast: () => {} },
        fetcher: { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
        wal: {
          get size() {
            return wal.size;
          },
          async append(r, _sync) {
            if (r.kind === "endHeight") log.push(`wal:endHeight(${r.height})`);
            await wal.append(r);
          },
          records: () => wal.records(),
          async replace(rs) {
            log.push("wal:replace");
            await wal.replace(rs);
          },
          close: () => wal.close(),
        },
        signer: null,
        guard: null,
        clock: new SimClock(),
      },
    );
    await driver.start(1);
    driver.receive(proposal1());
    for (const vote of votesOf(tv, [1, 2, 3], MsgType.Precommit, 1, 0, block1.hash))
      driver.receive({ type: "vote", vote });
    for (let i = 0; i < 50 && !log.includes("app:commit(1) started"); i++)
      await new Promise((r) => setImmediate(r));
    expect(log).toEqual(["app:commit(1) started"]);
    // Until the commit is durable the height's proposal and votes stay in the WAL.
    const kept = (await wal.records()).filter((r) => r.kind === "input" && r.height === 1);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual(["app:commit(1) started"]); // no endHeight, no compaction yet
    release();
    await driver.whenIdle();
    for (let i = 0; i < 50 && !log.includes("wal:replace"); i++) await new Promise((r) => setImmediate(r));
    expect(log).toEqual([
      "app:commit(1) started",
      "app:commit(1) durable",
      "wal:endHeight(1)",
      "wal:replace",
    ]);
    expect(driver.height).toBe(2);
    await driver.stop();
  });

  it("bounds its network queue: the oldest inputs are dropped and counted", async () => {
    const h = await makeDriver({ queueSize: 3 });
    await h.driver.start(1);
    await h.driver.whenIdle();
    const votes = [1, 2, 3].flatMap((i) =>
      [0, 1, 2].map((r) => signVote(tv.keys[i]!, tv.addresses[i]!, MsgType.Prevote, 1, r, null)),
    );
    for (const vote of votes) h.driver.receive({ type: "vote", vote });
    await h.driver.whenIdle();
    // The first went straight to the loop; of the other eight, five were pushed out.
    expect(await h.metrics.values("dseq_consensus_inputs_dropped_total")).toEqual([{ labels: {}, value: 5 }]);
    await h.driver.stop();
  });

  it("rejects forged messages before they reach the WAL", async () => {
    const h = await makeDriver();
    await h.driver.start(1);
    const forged = {
      ...signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, 1, 0, null),
      validator: tv.addresses[2]!,
    };
    expect(h.driver.receive({ type: "vote", vote: forged })).toBe(false);
    await h.driver.whenIdle();
    expect(h.log.some((l) => l.startsWith("wal:vote(peer"))).toBe(false);
    await h.driver.stop();
  });

  it("catches up: a certificate for its height gets the block fetched and committed; later heights from fetchCommitted", async () => {
    const b2 = makeSimBlock(2, 2, 7);
    const certs = new Map([
      [1, certificateOf(tv, [1, 2, 3], 1, 0, block1.hash)],
      [2, certificateOf(tv, [1, 2, 3], 2, 1, b2.hash)],
    ]);
    const blocks = new Map([
      [1, block1],
      [2, b2],
    ]);
    const fetcher: BlockFetcher = {
      fetchBlock: async (height, hash) =>
        blocks.get(height)?.hash === hash ? blocks.get(height) : undefined,
      fetchCommitted: async (height) => {
        const block = blocks.get(height);
        const certificate = certs.get(height);
        return block && certificate ? { block, certificate } : undefined;
      },
    };
    const h = await makeDriver({ fetcher });
    await h.driver.start(1);
    h.driver.receive({ type: "certificate", certificate: certs.get(1)! });
    await h.driver.whenIdle();
    expect(h.committed.get(1)?.block.hash).toBe(block1.hash);
    // A vote two heights ahead: this node is behind, it asks for the commit of height 2.
    h.driver.receive({
      type: "vote",
      vote: signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, 4, 0, null),
    });
    for (let i = 0; i < 3 && h.driver.height === 2; i++) {
      h.clock.runNext();
      await h.driver.whenIdle();
    }
    expect(h.committed.get(2)?.block.hash).toBe(b2.hash);
    expect(h.committed.get(2)?.certificate.round).toBe(1);
    await h.driver.stop();
  });
});
