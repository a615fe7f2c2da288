import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { bytesToHex, FakeClock } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ME, makeHarness, tv, walInputs } from "../test/driverHarness.ts";
import { certificateOf, makeValidators, signProposal, signVote } from "../test/fixtures.ts";
import { makeSimBlock, type SimClock } from "../test/sim.ts";
import { encodeJson } from "./codec.ts";
import type { BlockFetcher } from "./consensusDriver.ts";
import { type Block, type CommitCertificate, type ConsensusMessage, MsgType } from "./types.ts";
import { createStaticValidatorSource } from "./validatorSet.ts";
import { FileWal } from "./wal.ts";

const block1 = makeSimBlock(1, 1, 42);
const vote = (
  i: number,
  height: number,
  round = 0,
  type: 1 | 2 = MsgType.Prevote,
  hash: `0x${string}` | null = null,
) => ({ type: "vote", vote: signVote(tv.keys[i]!, tv.addresses[i]!, type, height, round, hash) }) as const;
const copy = <T>(m: T): T => structuredClone(m);

function bigBlock(bytes: number, tag: number): Block {
  const payload = new Uint8Array(bytes).fill(tag);
  return { hash: bytesToHex(keccak256(payload)), payload };
}

async function runClock(
  clock: SimClock,
  steps: number,
  driver: { whenIdle(): Promise<void> },
): Promise<void> {
  for (let i = 0; i < steps && clock.runNext(); i++) await driver.whenIdle();
}

describe("ConsensusDriver under hostile input", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("a poisoned WAL never bricks the node: bad records are skipped loudly, the height is decided", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dseq-poison-"));
    dirs.push(dir);
    const frame = (body: Uint8Array) => {
      const out = Buffer.alloc(8 + body.length);
      out.writeUInt32BE(body.length, 0);
      out.writeUInt32BE(crc32(body), 4);
      out.set(body, 8);
      return out;
    };
    const json = (r: unknown) => frame(Buffer.from(encodeJson(r), "utf8"));
    await writeFile(
      join(dir, "wal"),
      Buffer.concat([
        // A certificate input with an empty signature entry (the old JSON decoding let it in).
        json({
          kind: "input",
          height: 1,
          input: {
            type: "certificate",
            certificate: { height: 1, round: 0, blockHash: block1.hash, signatures: [{}] },
          },
        }),
        // Well formed, but the state machine refuses it (a second start).
        json({ kind: "input", height: 1, input: { type: "start" } }),
        // Intact frame, body that decodes as nothing.
        frame(Uint8Array.of(0x01, 0xc1, 0x80)),
      ]),
    );
    const h = await makeHarness({ wal: await FileWal.open(join(dir, "wal")) });
    await h.driver.start(1);
    await h.decide(1, block1);
    expect(h.committed.get(1)?.block.hash).toBe(block1.hash);
    expect(h.driver.height).toBe(2);
    expect(await h.metrics.values("dseq_consensus_wal_records_skipped_total")).toEqual([
      { labels: { reason: "undecodable" }, value: 2 },
      { labels: { reason: "step" }, value: 1 },
    ]);
    await h.driver.stop();
  });

  it("judge: forged or unknown signers are rejected, copies of signed content ignored and written once", async () => {
    const h = await makeHarness();
    await h.driver.start(1);
    const v = vote(1, 1);
    const forged = { type: "vote", vote: { ...vote(1, 1, 1).vote, validator: tv.addresses[2]! } } as const;
    const stranger = makeValidators(1, 99);
    const unknown = {
      type: "vote",
      vote: signVote(stranger.keys[0]!, stranger.addresses[0]!, MsgType.Prevote, 1, 0, null),
    } as const;
    const malformed = {
      type: "certificate",
      certificate: { height: 1, round: 0, blockHash: block1.hash, signatures: [{}] },
    } as unknown as ConsensusMessage;
    const verdicts = [v, copy(v), forged, unknown, malformed, vote(2, 0), vote(2, 9)].map((m) =>
      h.driver.judge(m),
    );
    expect(verdicts).toEqual(["accept", "ignore", "reject", "reject", "reject", "ignore", "ignore"]);
    await h.driver.whenIdle();
    expect(
      walInputs(h, "vote").filter(
        (r) => r.kind === "input" && r.input.type === "vote" && r.input.vote.validator === tv.addresses[1],
      ),
    ).toHaveLength(1);
    await h.driver.stop();
  });

  it("a valid large proposal replayed under new gossip envelopes reaches the WAL once", async () => {
    const h = await makeHarness({ validate: async () => ({ valid: true }) });
    await h.driver.start(1);
    const block = bigBlock(2 * 1024 * 1024, 7);
    const msg = {
      type: "proposal",
      proposal: signProposal(tv.keys[1]!, tv.addresses[1]!, 1, 0, -1, block.hash),
      block,
    } as const;
    const taken = [msg, copy(msg), copy(msg), copy(msg)].map((m) => h.driver.receive(m));
    await h.driver.whenIdle();
    expect(taken).toEqual([true, false, false, false]);
    expect(walInputs(h, "proposal")).toHaveLength(1);
    await h.driver.stop();
  });

  it("a signed proposal from a validator that is not the round's proposer is rejected before the WAL", async () => {
    const h = await makeHarness();
    await h.driver.start(1);
    const wrong = {
      type: "proposal",
      proposal: signProposal(tv.keys[2]!, tv.addresses[2]!, 1, 0, -1, block1.hash),
      block: block1,
    } as const;
    expect(h.driver.judge(wrong)).toBe("reject");
    await h.driver.whenIdle();
    expect(walInputs(h, "proposal")).toEqual([]);
    await h.driver.stop();
  });

  it("a message dropped from a full queue is taken again when it comes back (a rebroadcast)", async () => {
    const h = await makeHarness({ options: { queueSize: 1 } });
    await h.driver.start(1);
    const votes = [vote(1, 1, 0), vote(2, 1, 0), vote(3, 1, 0)];
    // The first goes straight to the loop, the second is pushed out by the third.
    expect(votes.map((m) => h.driver.judge(m))).toEqual(["accept", "accept", "accept"]);
    expect(h.driver.judge(copy(votes[1]!))).toBe("accept");
    // Not dropped (it is being processed): a copy is still a copy.
    expect(h.driver.judge(copy(votes[0]!))).toBe("ignore");
    await h.driver.stop();
  });

  it("a malformed certificate at the current height is refused, not thrown on", async () => {
    const h = await makeHarness();
    await h.driver.start(1);
    const bad = {
      type: "certificate",
      certificate: { height: 1, round: 0, blockHash: block1.hash, signatures: [{}] },
    } as unknown as ConsensusMessage;
    expect(h.driver.receive(bad)).toBe(false);
    await h.driver.whenIdle();
    expect(walInputs(h, "certificate")).toEqual([]);
    expect(h.driver.halted).toBeUndefined();
    await h.driver.stop();
  });

  it("the future buffer holds only verified next-height messages, within its byte bound", async () => {
    const h = await makeHarness({ options: { futureBufferBytes: 1_000 } });
    await h.driver.start(1);
    // Height 2: round r is proposed by validator (2 + r) mod 4.
    const p = (round: number, tag: number) => {
      const block = bigBlock(400, tag);
      const who = (2 + round) % 4;
      return {
        type: "proposal",
        proposal: signProposal(tv.keys[who]!, tv.addresses[who]!, 2, round, -1, block.hash),
        block,
      } as const;
    };
    const forged = { type: "vote", vote: { ...vote(1, 2).vote, validator: tv.addresses[3]! } } as const;
    const taken = [p(0, 1), p(1, 2), forged, vote(1, 2)].map((m) => h.driver.receive(m));
    // 592 + 592 bytes would pass the 1,000-byte bound; the forged vote is not buffered at all.
    expect(taken).toEqual([true, false, false, true]);
    await h.decide(1, block1);
    expect(h.driver.height).toBe(2);
    expect(walInputs(h, "proposal").map((r) => r.height)).toEqual([1, 2]);
    expect(
      walInputs(h, "vote").filter(
        (r) =>
          r.height === 2 &&
          r.kind === "input" &&
          r.input.type === "vote" &&
          r.input.vote.validator === tv.addresses[1],
      ),
    ).toHaveLength(1);
    await h.driver.stop();
  });

  it("one sender gets at most futureBufferPerSender next-height messages", async () => {
    const h = await makeHarness();
    await h.driver.start(1);
    const taken = Array.from({ length: 12 }, (_, r) => h.driver.receive(vote(2, 2, r)));
    expect(taken).toEqual([...new Array(9).fill(true), false, false, false]);
    expect(h.driver.receive(vote(3, 2, 0))).toBe(true); // another sender still has room
    await h.driver.stop();
  });

  it("without the next height's validator set nothing is buffered (catch-up will tell)", async () => {
    const fixed = createStaticValidatorSource(tv.set, "roundRobin");
    const validators = {
      forHeight(height: number) {
        if (height > 1) throw new Error("set of a later span not known yet");
        return fixed.forHeight(height);
      },
    };
    const h = await makeHarness({ validators });
    await h.driver.start(1);
    expect(h.driver.judge(vote(1, 2))).toBe("ignore");
    expect(h.driver.receive(vote(2, 2))).toBe(false);
    await h.driver.stop();
  });

  it("an unverified claim of a far height does not start catch-up; a verified one does", async () => {
    const asked: number[] = [];
    const fetcher: BlockFetcher = {
      fetchBlock: async () => undefined,
      fetchCommitted: async (height) => {
        asked.push(height);
        return undefined;
      },
    };
    const h = await makeHarness({ fetcher });
    await h.driver.start(1);
    const good = certificateOf(tv, [1, 2, 3], 50, 0, block1.hash);
    const forged: CommitCertificate = {
      ...good,
      signatures: good.signatures.map((s, i) => ({ ...s, validator: tv.addresses[(i + 2) % 4]! })),
    };
    expect(h.driver.receive({ type: "certificate", certificate: forged })).toBe(false);
    await runClock(h.clock as SimClock, 3, h.driver);
    expect(asked).toEqual([]);
    expect(h.driver.judge({ type: "certificate", certificate: good })).toBe("ignore"); // too far to buffer
    for (let i = 0; i < 5 && asked.length === 0; i++) await runClock(h.clock as SimClock, 1, h.driver);
    expect(asked).toEqual([1]);
    await h.driver.stop();
  });

  it("a node that cannot verify what peers claim (later spans) still catches up, chained by verified answers", async () => {
    const fixed = createStaticValidatorSource(tv.set, "roundRobin");
    let driverHeight = () => 1;
    // Only the next height's set is known, as with a rotation schedule far behind.
    const validators = {
      forHeight(height: number) {
        if (height > driverHeight() + 1) throw new Error("span not known yet");
        return fixed.forHeight(height);
      },
    };
    const chain = new Map([1, 2, 3].map((n) => [n, makeSimBlock(n, n % 4, 9)] as const));
    const asked: number[] = [];
    const fetcher: BlockFetcher = {
      fetchBlock: async () => undefined,
      fetchCommitted: async (height) => {
        asked.push(height);
        const block = chain.get(height);
        return (
          block && { block, certificate: certificateOf(tv, [1, 2, 3], height, 0, block.hash), source: "p" }
        );
      },
    };
    const h = await makeHarness({ validators, fetcher });
    driverHeight = () => h.driver.height ?? 1;
    await h.driver.start(1);
    const claim = certificateOf(tv, [1, 2, 3], 500, 0, block1.hash);
    expect(h.driver.judge({ type: "certificate", certificate: claim })).toBe("ignore");
    for (let i = 0; i < 5 && asked.length === 0; i++) await runClock(h.clock as SimClock, 1, h.driver);
    const startedAt = h.clock.now();
    for (let i = 0; i < 20 && asked.length < 4; i++) await runClock(h.clock as SimClock, 1, h.driver);
    expect([...h.committed.keys()]).toEqual([1, 2, 3]);
    expect(h.clock.now()).toBe(startedAt); // chained at once, no waiting for new claims
    expect(asked).toEqual([1, 2, 3, 4]);
    expect(h.driver.height).toBe(4);
    await h.driver.stop();
  });

  it("catch-up answers are verified first: a bad one is penalized, not queued, and retried", async () => {
    const wrongBlock = makeSimBlock(1, 1, 666);
    const good = certificateOf(tv, [1, 2, 3], 1, 0, block1.hash);
    const badSigs: CommitCertificate = {
      ...good,
      signatures: certificateOf(tv, [1, 2, 3], 1, 1, block1.hash).signatures,
    };
    const answers = [
      { block: wrongBlock, certificate: good, source: "peerA" },
      { block: block1, certificate: badSigs, source: "peerB" },
      { block: block1, certificate: certificateOf(tv, [1, 2, 3], 2, 0, block1.hash), source: "peerC" },
      { block: block1, certificate: good, source: "peerD" },
    ];
    const penalized: [string, string][] = [];
    const fetcher: BlockFetcher = {
      fetchBlock: async () => undefined,
      fetchCommitted: async () => answers.shift(),
      penalize: (source, reason) => penalized.push([source, reason]),
    };
    const h = await makeHarness({ fetcher });
    await h.driver.start(1);
    h.driver.receive(vote(1, 3)); // a signed vote two heights ahead: this node is behind
    for (let i = 0; i < 40 && !h.committed.has(1); i++) await runClock(h.clock as SimClock, 1, h.driver);
    expect(h.committed.get(1)?.block.hash).toBe(block1.hash);
    expect(penalized).toEqual([
      ["peerA", "block is not the certified one"],
      ["peerB", "certificate: badSignature"],
      ["peerC", "certificate of another height"],
    ]);
    const blocks = walInputs(h, "block").map((r) =>
      r.kind === "input" && r.input.type === "block" ? r.input.block.hash : "",
    );
    expect(blocks).toEqual([block1.hash]);
    expect(walInputs(h, "certificate")).toHaveLength(1);
    await h.driver.stop();
  });

  it("carries the round the application reports into the core: a block built for another round gets nil", async () => {
    const h = await makeHarness({ validate: async () => ({ valid: true, round: 5 }) });
    await h.driver.start(1);
    h.driver.receive({
      type: "proposal",
      proposal: signProposal(tv.keys[1]!, tv.addresses[1]!, 1, 0, -1, block1.hash),
      block: block1,
    });
    await h.driver.whenIdle();
    const own = h.sent.filter((m) => m.type === "vote" && m.vote.validator === tv.addresses[ME]);
    expect(own.map((m) => m.type === "vote" && m.vote.blockHash)).toEqual([null]);
    await h.driver.stop();
  });

  it("recheckStart: a height waited for is entered at once when startTime moves to now, not before (ADR 0191)", async () => {
    const clock = new FakeClock(0);
    const starts = new Map<number, number>([
      [2, 2_000],
      [3, 60_000],
    ]);
    const h = await makeHarness({ clock, startTime: (height) => starts.get(height) });
    await h.driver.start(1);
    await h.decide(1, block1);
    expect(h.driver.height).toBe(1);
    h.driver.recheckStart(); // still 2 s away: nothing changes
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(1);
    clock.advance(300);
    starts.set(2, clock.now()); // e.g. height 2's proposer just became unreachable
    h.driver.recheckStart();
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(2);
    // The original wait's timer firing later does not enter (or restart) the height again.
    const b2 = makeSimBlock(2, 2, 42);
    await h.decide(2, b2);
    expect(h.committed.has(2)).toBe(true);
    clock.advance(2_000);
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(2);
    await h.driver.stop();
  });

  it("paces heights itself: enters h+1 at app.startTime(h+1), capped at maxStartDelayMs", async () => {
    const clock = new FakeClock(0);
    const starts = new Map<number, number>([
      [2, 700],
      [3, 1e12],
    ]);
    const h = await makeHarness({ clock, startTime: (height) => starts.get(height) });
    await h.driver.start(1);
    await h.decide(1, block1);
    expect(h.committed.has(1)).toBe(true);
    expect(h.driver.height).toBe(1);
    clock.advance(699);
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(1);
    clock.advance(1);
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(2);
    const b2 = makeSimBlock(2, 2, 42);
    await h.decide(2, b2);
    expect(h.committed.has(2)).toBe(true);
    const committedAt = clock.now();
    clock.advance(9_999);
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(2);
    clock.advance(1);
    await h.driver.whenIdle();
    expect(h.driver.height).toBe(3);
    expect(clock.now() - committedAt).toBe(10_000);
    await h.driver.stop();
  });
});
