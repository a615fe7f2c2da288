import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createNoopLogger } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { type Chain, createChain } from "@dseq/l2-exec";
import type { BlockSource } from "@dseq/p2p";
import {
  type ConsensusMessage,
  createKeySigner,
  type Proposal,
  proposalSignBytes,
  verifyProposalSignature,
  verifySignature,
  verifyVote,
  voteSignBytes,
} from "@dseq/pos-consensus";
import { afterEach, describe, expect, it } from "vitest";
import { decodeBlockExtra, encodeBlockExtra } from "./blockExtra.ts";
import { type BlockFragment, encodeFragment } from "./blockStream.ts";
import {
  byzantineBlockSource,
  byzantineBroadcast,
  byzantineFlags,
  byzantineStream,
  garbage,
  oversizedBlockBytes,
} from "./byzantine.ts";
import { parseNodeConfig } from "./config.ts";
import { decodeConsensusEnvelope } from "./consensusWire.ts";
import { createPreconfStore, preconfFromWire, verifyFragmentEvidence } from "./preconf/index.ts";

const base = { dataDir: "/tmp/x", chain: { genesis: "/tmp/chain.json" } };

describe("byzantine options", () => {
  it("are off unless the config has a byzantine section with a flag on", () => {
    expect(parseNodeConfig(base).byzantine).toBeUndefined();
    expect(byzantineFlags(parseNodeConfig(base).byzantine)).toEqual([]);
    expect(byzantineFlags(parseNodeConfig({ ...base, byzantine: {} }).byzantine)).toEqual([]);
    const on = parseNodeConfig({
      ...base,
      byzantine: { equivocateVotes: true, wrongRound: "max" },
    }).byzantine;
    expect(byzantineFlags(on)).toEqual(["equivocateVotes", "wrongRound:max"]);
  });

  it("are strict", () => {
    expect(() => parseNodeConfig({ ...base, byzantine: { flood: true } })).toThrow(/unknown field flood/);
    expect(() => parseNodeConfig({ ...base, byzantine: { wrongRound: "soon" } })).toThrow(
      /byzantine.wrongRound/,
    );
  });

  it("oversized blocks are over the chain's cap and under the proposal topic's 4 MiB", () => {
    const cap = 2 * 1024 * 1024;
    expect(oversizedBlockBytes(cap)).toBeGreaterThan(cap);
    expect(oversizedBlockBytes(cap)).toBeLessThan(4 * 1024 * 1024);
  });

  it("garbage never decodes as a consensus envelope", () => {
    for (let n = 0; n < 40; n++) expect(() => decodeConsensusEnvelope(garbage(n)), `garbage ${n}`).toThrow();
  });
});

describe("byzantineBlockSource", () => {
  const block = new Uint8Array([1, 2, 3]);
  const cert = new Uint8Array([0xc0]);
  const honest: BlockSource = {
    head: () => ({ height: 5n, hash: new Uint8Array(32) }),
    getRange: (from, count) =>
      Array.from({ length: Math.min(count, 6 - Number(from)) }, (_, i) => ({
        height: from + BigInt(i),
        block,
        certificate: cert,
      })),
  };

  it("is the honest source itself without a flag", () => {
    expect(byzantineBlockSource(undefined, honest)).toBe(honest);
    expect(byzantineBlockSource(parseNodeConfig({ ...base, byzantine: {} }).byzantine, honest)).toBe(honest);
  });

  it("claims head 2^62 and poisons every answer", async () => {
    const o = parseNodeConfig({ ...base, byzantine: { hugeHead: true, poisonCatchUp: true } }).byzantine;
    const src = byzantineBlockSource(o, honest);
    expect((await src.head()).height).toBe(2n ** 62n);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await src.getRange(2n, 2));
    expect(new TextDecoder().decode(answers[0]?.[0]?.certificate)).toBe('{"signatures":[{}]}');
    expect(answers[1]?.[0]?.certificate).not.toEqual(cert);
    expect(answers[2]?.map((b) => b.height)).toEqual([1002n, 1003n]);
    expect(answers[3]?.[0]?.height).toBe(2n);
    for (const a of answers) expect(a).toHaveLength(2);
  });
});

describe("byzantineBroadcast", () => {
  const key = keccak256(new TextEncoder().encode("dseq byzantine unit key"));
  const signer = createKeySigner(key);
  const dirs: string[] = [];
  let chain: Chain | undefined;
  afterEach(async () => {
    await chain?.close();
    chain = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A real round-`round` block on genesis and this key's signed proposal of it. */
  async function proposal(round: number): Promise<ConsensusMessage & { type: "proposal" }> {
    const dir = await mkdtemp(join(tmpdir(), "dseq-byz-"));
    dirs.push(dir);
    chain = await createChain({
      dataDir: join(dir, "chain"),
      chainConfig: { chainId: 1337n, gasLimit: 30_000_000n, timestamp: 1_700_000_000n, alloc: {} },
    });
    const built = await chain.buildBlock({
      txs: [],
      timestamp: 1_700_000_001n,
      coinbase: signer.address,
      extraData: encodeBlockExtra({ round, proposer: signer.address }),
    });
    const unsigned = {
      height: 1,
      round,
      polRound: -1,
      blockHash: bytesToHex(built.block.hash()),
      proposer: signer.address,
    };
    const signature = bytesToHex(await signer.sign(proposalSignBytes(1337n, unsigned)));
    return {
      type: "proposal",
      proposal: { ...unsigned, signature },
      block: { hash: unsigned.blockHash, payload: built.block.serialize() },
    };
  }

  /** Runs one broadcast through the wrapper; returns what the honest path got and what was published. */
  async function run(flags: Record<string, unknown>, msg: ConsensusMessage) {
    const o = parseNodeConfig({ ...base, byzantine: flags }).byzantine as NonNullable<
      ReturnType<typeof parseNodeConfig>["byzantine"]
    >;
    const honest: ConsensusMessage[] = [];
    const published: ConsensusMessage[] = [];
    const send = byzantineBroadcast(
      o,
      {
        chainId: 1337n,
        privateKey: key,
        decodeBlock: (p) => (chain as Chain).decodeBlock(p),
        publish: async (_kind, data) => {
          published.push(decodeConsensusEnvelope(data));
          return 1;
        },
        logger: createNoopLogger(),
      },
      (m) => honest.push(m),
    );
    send(msg);
    await new Promise((r) => setTimeout(r, 50));
    return { honest, published };
  }

  const verifies = (p: Proposal): boolean =>
    verifyProposalSignature(p, 1337n, signer.publicKey, verifySignature);

  it("equivocateProposals: the honest proposal, then a signed twin for the same (height, round) with another valid block", async () => {
    const msg = await proposal(0);
    const { honest, published } = await run({ equivocateProposals: true }, msg);
    expect(honest).toEqual([msg]);
    const twin = published[0] as ConsensusMessage & { type: "proposal" };
    expect(twin.proposal).toMatchObject({ height: 1, round: 0, proposer: signer.address });
    expect(twin.proposal.blockHash).not.toBe(msg.proposal.blockHash);
    expect(verifies(twin.proposal)).toBe(true);
    const b = (chain as Chain).decodeBlock(twin.block.payload);
    expect(bytesToHex(b.hash())).toBe(twin.proposal.blockHash);
    expect(b.header.timestamp).toBe(1_700_000_002n);
    expect(decodeBlockExtra(b.header.extraData).round).toBe(0);
  });

  it("wrongRound: only a re-signed proposal whose block names the wrong round goes out", async () => {
    for (const [mode, round, named] of [
      ["max", 0, 0xffffffff],
      ["later", 0, 1],
      ["zero", 2, 0],
    ] as const) {
      const msg = await proposal(round);
      const { honest, published } = await run({ wrongRound: mode }, msg);
      expect(honest, mode).toEqual([]);
      const p = published[0] as ConsensusMessage & { type: "proposal" };
      expect(p.proposal.round).toBe(round);
      expect(verifies(p.proposal)).toBe(true);
      const b = (chain as Chain).decodeBlock(p.block.payload);
      expect(bytesToHex(b.hash())).toBe(p.proposal.blockHash);
      expect(decodeBlockExtra(b.header.extraData).round, mode).toBe(named);
      await chain?.close();
      chain = undefined;
    }
  });

  it("wrongRound zero in round 0 is the honest proposal", async () => {
    const msg = await proposal(0);
    const { honest, published } = await run({ wrongRound: "zero" }, msg);
    expect(honest).toEqual([msg]);
    expect(published).toEqual([]);
  });

  it("equivocateVotes: each own vote also goes out as a signed conflicting one", async () => {
    const unsigned = {
      type: 1 as const,
      height: 3,
      round: 0,
      blockHash: bytesToHex(new Uint8Array(32).fill(7)),
      validator: signer.address,
    };
    const vote = { ...unsigned, signature: bytesToHex(await signer.sign(voteSignBytes(1337n, unsigned))) };
    const { honest, published } = await run({ equivocateVotes: true }, { type: "vote", vote });
    expect(honest).toHaveLength(1);
    const other = (published[0] as ConsensusMessage & { type: "vote" }).vote;
    expect(other).toMatchObject({ type: 1, height: 3, round: 0, blockHash: null });
    expect(verifyVote(other, 1337n, signer.publicKey, verifySignature)).toBe(true);
  });
});

describe("byzantineStream (equivocateFragments)", () => {
  const privateKey = keccak256(new TextEncoder().encode("byzantine stream key"));
  const fragment: BlockFragment = {
    height: 5,
    parentHash: bytesToHex(keccak256(new Uint8Array([5]))),
    timestamp: 1_800_000_000n,
    seq: 0,
    last: false,
    txs: [new Uint8Array([2, 1]), new Uint8Array([2, 2])],
  };
  const run = (o: Parameters<typeof byzantineStream>[0], f: BlockFragment) => {
    const honest: BlockFragment[] = [];
    const published: Uint8Array[] = [];
    const stream = byzantineStream(
      o,
      {
        chainId: 1337n,
        privateKey,
        publish: async (_kind, data) => {
          published.push(data);
          return 1;
        },
        logger: createNoopLogger(),
      },
      { publish: (x) => honest.push(x) },
    );
    stream.publish(f);
    return { honest, published };
  };
  const off = parseNodeConfig({ ...base, byzantine: {} }).byzantine;

  it("is the honest stream without the flag", () => {
    const { honest, published } = run(off as never, fragment);
    expect(honest).toEqual([fragment]);
    expect(published).toEqual([]);
  });

  it("sends a signed conflicting twin that a preconf store turns into verifiable evidence", () => {
    const on = parseNodeConfig({ ...base, byzantine: { equivocateFragments: true } }).byzantine;
    expect(byzantineFlags(on)).toEqual(["equivocateFragments"]);
    for (const f of [fragment, { ...fragment, seq: 1, txs: [] }]) {
      const { honest, published } = run(on as never, f);
      expect(honest).toEqual([f]);
      expect(published).toHaveLength(1);
      const store = createPreconfStore();
      expect(store.add(preconfFromWire(encodeFragment(f, 1337n, privateKey), 1337n)).kind).toBe("new");
      const r = store.add(preconfFromWire(published[0] as Uint8Array, 1337n));
      expect(r.kind).toBe("equivocation");
      if (r.kind === "equivocation") expect(() => verifyFragmentEvidence(r.evidence, 1337n)).not.toThrow();
    }
  });
});
