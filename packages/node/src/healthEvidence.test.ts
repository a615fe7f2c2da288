import { bytesToHex, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import type { Evidence } from "@dseq/pos-consensus";
import { describe, expect, it } from "vitest";
import { encodeFragment } from "./blockStream.ts";
import { type ConsensusEvidenceInput, evidenceHealthOf, type FragmentEvidenceInput } from "./health.ts";
import { keyInfo } from "./keystore.ts";
import { createPreconfStore, type FragmentEvidence, preconfFromWire } from "./preconf/index.ts";

// What the node holds fits what /health takes (the wiring passes the lists unchanged).
type Fits = [
  readonly Evidence[] extends readonly ConsensusEvidenceInput[] ? true : never,
  readonly FragmentEvidence[] extends readonly FragmentEvidenceInput[] ? true : never,
];
const fits: Fits = [true, true];

const key = keccak256(new TextEncoder().encode("health evidence key"));
const proposer = keyInfo(key).address.toLowerCase() as Hex;

describe("the evidence part of /health (ADR 0178)", () => {
  it("is empty on a node that saw none", () => {
    expect(fits).toEqual([true, true]);
    expect(evidenceHealthOf([], [])).toEqual({
      consensus: { count: 0, latest: undefined },
      fragments: { count: 0, latest: undefined },
    });
  });

  it("counts fragment equivocations a real store recorded and names the latest (height, round, position, proposer)", () => {
    const store = createPreconfStore();
    const parentHash = bytesToHex(keccak256(new Uint8Array([1])));
    const signed = (height: number, seq: number, tx: number): Uint8Array =>
      encodeFragment(
        { height, parentHash, timestamp: 10n, seq, last: false, txs: [new Uint8Array([0x02, tx])] },
        1337n,
        key,
      );
    for (const [h, r, s] of [
      [5, 0, 2],
      [7, 1, 3],
    ] as const) {
      expect(store.add(preconfFromWire(signed(h, s, 1), 1337n, r)).kind).toBe("new");
      expect(store.add(preconfFromWire(signed(h, s, 2), 1337n, r)).kind).toBe("equivocation");
    }
    const v = evidenceHealthOf([], store.evidence());
    expect(v.fragments).toEqual({ count: 2, latest: { height: 7, round: 1, position: 3, proposer } });
    expect(JSON.stringify(v)).not.toMatch(/first|second/); // no signed bytes in a probe's answer
  });

  it("reports the latest consensus evidence beside it", () => {
    const vote = { height: 9, round: 2 };
    const v = evidenceHealthOf(
      [
        { type: "conflictingCommit", height: 3, validators: ["0xaa", "0xbb"] },
        { type: "duplicateVote", validator: "0xcc", a: vote },
      ],
      [],
    );
    expect(v.consensus).toEqual({
      count: 2,
      latest: { type: "duplicateVote", height: 9, round: 2, validators: ["0xcc"] },
    });
  });
});
