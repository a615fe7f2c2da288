import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { chainConfigToGethGenesis, createChainCommon } from "@dseq/l2-exec";
import { type Block, createBlock, createBlockFromRLP, type HeaderData } from "@ethereumjs/block";
import { describe, expect, it } from "vitest";
import { encodeBlockExtra } from "./blockExtra.ts";
import {
  checkProposal,
  decodeProposal,
  type ParentView,
  type ProposalCheckOptions,
  type ProposalScheduleView,
} from "./checkProposal.ts";

const common = createChainCommon(chainConfigToGethGenesis({ chainId: 1337, alloc: {} }));
const addr = (b: string): Hex => `0x${b.repeat(20)}`;
const proposers = [addr("a1"), addr("a2"), addr("a3")];
const recipientOf = (v: Hex): Hex => `0x${"cc".repeat(19)}${v.slice(-2)}`;

const opts: ProposalCheckOptions = {
  blockTimeMs: 2000,
  maxFutureSeconds: 2,
  maxRound: 1_000,
  maxBlockBytes: 2_097_152,
};
const parent: ParentView = {
  hash: `0x${"77".repeat(32)}`,
  number: 4n,
  timestamp: 1_000n,
  gasLimit: 30_000_000n,
};
const nowMs = 1_002_500;

/** Proposers in turn by round; records every round it is asked about. */
function scheduleView(): ProposalScheduleView & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    proposerFor(_height, round) {
      asked.push(round);
      return proposers[round % proposers.length] as Hex;
    },
    rewardRecipient: (_height, v) => (proposers.includes(v) ? recipientOf(v) : undefined),
  };
}

function block(over: HeaderData = {}, round = 0, proposer = proposers[0] as Hex): Block {
  return createBlock(
    {
      header: {
        parentHash: hexToBytes(parent.hash),
        number: 5n,
        timestamp: 1_002n,
        gasLimit: 30_000_000n,
        gasUsed: 0n,
        coinbase: recipientOf(proposer),
        extraData: encodeBlockExtra({ round, proposer }),
        ...over,
      },
    },
    { common },
  );
}

const check = (b: Block, at = nowMs, view: ProposalScheduleView = scheduleView(), o = opts) =>
  checkProposal({ height: 5, block: b, parent, nowMs: at }, view, o);

describe("checkProposal", () => {
  it("accepts a block that extends the head in its slot, built by its round's proposer", () => {
    expect(check(block())).toEqual({ ok: true, round: 0, proposer: proposers[0] });
  });

  it("reports the round named in extraData", () => {
    const b = block({ coinbase: recipientOf(proposers[2] as Hex) }, 2, proposers[2]);
    expect(check(b)).toEqual({ ok: true, round: 2, proposer: proposers[2] });
  });

  it("refuses a block whose parent is not the committed head", () => {
    const r = check(block({ parentHash: new Uint8Array(32).fill(0x78) }));
    expect(r).toEqual({ ok: false, reason: "parent is not the committed head" });
  });

  it("refuses a wrong number, and a height that is not the head's next", () => {
    expect(check(block({ number: 6n }))).toEqual({ ok: false, reason: "wrong block number" });
    const r = checkProposal({ height: 6, block: block({ number: 6n }), parent, nowMs }, scheduleView(), opts);
    expect(r).toEqual({ ok: false, reason: "wrong block number" });
  });

  it("refuses a timestamp before parent + block time", () => {
    const r = check(block({ timestamp: 1_001n }));
    expect(r).toEqual({ ok: false, reason: "timestamp earlier than parent + block time" });
  });

  it("refuses a timestamp more than maxFutureSeconds ahead of the clock", () => {
    // now is 1002.5 s: 1004 is within 2 s, 1005 is not.
    expect(check(block({ timestamp: 1_004n })).ok).toBe(true);
    expect(check(block({ timestamp: 1_005n }))).toEqual({
      ok: false,
      reason: "timestamp too far in the future",
    });
  });

  it("refuses a builder that is not the proposer of the round it names", () => {
    const b = block({ coinbase: recipientOf(proposers[1] as Hex) }, 0, proposers[1]);
    expect(check(b)).toEqual({ ok: false, reason: "builder is not the proposer of its round" });
  });

  it("refuses a coinbase other than the proposer's reward recipient", () => {
    const r = check(block({ coinbase: addr("dd") }));
    expect(r).toEqual({ ok: false, reason: "coinbase is not the proposer's reward recipient" });
  });

  it("refuses a round above maxRound without asking the schedule about it", () => {
    for (const round of [1_001, 0xffff_ffff]) {
      const view = scheduleView();
      const r = check(block({}, round), nowMs, view);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/^round \d+ is above the highest accepted \(1000\)$/);
      expect(view.asked).toEqual([]);
    }
    const at = block({ coinbase: recipientOf(proposers[1_000 % 3] as Hex) }, 1_000, proposers[1_000 % 3]);
    expect(check(at)).toEqual({ ok: true, round: 1_000, proposer: proposers[1] });
  });

  it("refuses a schedule that cannot answer, and extraData that is not a dseq block extra", () => {
    const view: ProposalScheduleView = {
      ...scheduleView(),
      proposerFor: () => {
        throw new Error("height is outside the known spans");
      },
    };
    expect(check(block(), nowMs, view)).toEqual({
      ok: false,
      reason: "cannot check proposer: height is outside the known spans",
    });
    const r = check(block({ extraData: new Uint8Array(3) }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/dseq v1 block extra/);
  });

  it("refuses a gas limit other than the parent's (gas used over it is refused by the decoder)", () => {
    expect(check(block({ gasLimit: 30_000_001n }))).toEqual({
      ok: false,
      reason: "gas limit differs from the parent's",
    });
    expect(() => block({ gasUsed: 30_000_001n })).toThrow(/too much gas used/);
  });

  it("is a function of its arguments: the same inputs give the same answer", () => {
    const b = block();
    expect(check(b)).toEqual(check(b));
  });
});

describe("decodeProposal", () => {
  const counted = () => {
    const calls = { n: 0 };
    const decode = (p: Uint8Array): Block => {
      calls.n++;
      return createBlockFromRLP(p, { common, setHardfork: true });
    };
    return { calls, decode };
  };

  it("decodes a payload whose block has the proposal's hash", () => {
    const b = block();
    const { decode } = counted();
    const r = decodeProposal(decode, { hash: bytesToHex(b.hash()), payload: b.serialize() }, opts);
    expect(r.ok && bytesToHex(r.block.hash())).toBe(bytesToHex(b.hash()));
  });

  it("refuses a payload over maxBlockBytes without decoding it", () => {
    const b = block();
    const payload = b.serialize();
    const { calls, decode } = counted();
    const small = { maxBlockBytes: payload.length - 1 };
    const r = decodeProposal(decode, { hash: bytesToHex(b.hash()), payload }, small);
    expect(r).toEqual({
      ok: false,
      reason: `block of ${payload.length} bytes is over the cap of ${payload.length - 1}`,
    });
    expect(calls.n).toBe(0);
    expect(
      decodeProposal(decode, { hash: bytesToHex(b.hash()), payload }, { maxBlockBytes: payload.length }).ok,
    ).toBe(true);
    expect(calls.n).toBe(1);
  });

  it("refuses a payload whose block has another hash, and bytes that are not a block", () => {
    const b = block();
    const other = block({ timestamp: 1_003n });
    const { decode } = counted();
    expect(decodeProposal(decode, { hash: bytesToHex(other.hash()), payload: b.serialize() }, opts)).toEqual({
      ok: false,
      reason: "hash does not match the payload",
    });
    const r = decodeProposal(
      decode,
      { hash: bytesToHex(b.hash()), payload: new Uint8Array([1, 2, 3]) },
      opts,
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^undecodable block: /);
  });
});
