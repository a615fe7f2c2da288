import { bytesToHex, isDseqError, utf8ToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { RLP } from "@ethereumjs/rlp";
import { describe, expect, it } from "vitest";
import { certificateOf, makeBlock, makeValidators, signProposal, signVote } from "../test/fixtures.ts";
import {
  decodeCertificate,
  decodeConsensusMessage,
  encodeCertificate,
  encodeConsensusMessage,
  encodeJson,
} from "./codec.ts";
import { type Block, type CommitCertificate, type ConsensusMessage, MsgType } from "./types.ts";

const tv = makeValidators(4);
const A = makeBlock("A");
const isBad = (e: unknown) => isDseqError(e, "CONSENSUS_BAD_MESSAGE");

const vote = signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Precommit, 3, 1, A.hash);
const proposal = signProposal(tv.keys[2]!, tv.addresses[2]!, 3, 2, 1, A.hash);
const cert = certificateOf(tv, [0, 1, 2], 3, 1, A.hash);
const h = (hex: string) => Buffer.from(hex.slice(2), "hex");

/** The vote's fields as RLP items, to be broken one at a time. */
const voteItems = (): (Uint8Array | Uint8Array[])[] => [
  Uint8Array.of(1),
  Uint8Array.of(vote.type),
  Uint8Array.of(3),
  Uint8Array.of(1),
  h(vote.blockHash!),
  h(vote.validator),
  h(vote.signature),
];

describe("consensus message codec (RLP, ADR 0054)", () => {
  it("round-trips votes (nil and not), proposals with their block, and certificates", () => {
    const msgs: ConsensusMessage[] = [
      { type: "vote", vote: signVote(tv.keys[0]!, tv.addresses[0]!, MsgType.Prevote, 3, 0, null) },
      { type: "vote", vote },
      { type: "proposal", proposal, block: A },
      {
        type: "proposal",
        proposal: signProposal(tv.keys[2]!, tv.addresses[2]!, 0, 0, -1, A.hash),
        block: A,
      },
      { type: "certificate", certificate: cert },
    ];
    for (const m of msgs) expect(decodeConsensusMessage(encodeConsensusMessage(m))).toEqual(m);
    // The binary form matches the layout documented in codec.ts.
    expect(encodeConsensusMessage({ type: "vote", vote })).toEqual(RLP.encode(voteItems()));
  });

  it("a proposal with a 2 MiB block is about 2 MiB on the wire, not 4+ as hex JSON", () => {
    const payload = new Uint8Array(2 * 1024 * 1024).map((_, i) => i * 7);
    const block: Block = { hash: bytesToHex(keccak256(payload)), payload };
    const p = signProposal(tv.keys[2]!, tv.addresses[2]!, 3, 0, -1, block.hash);
    const bytes = encodeConsensusMessage({ type: "proposal", proposal: p, block });
    expect(bytes.length).toBeGreaterThan(payload.length);
    expect(bytes.length).toBeLessThan(payload.length + 256);
    expect(utf8ToBytes(encodeJson({ type: "proposal", proposal: p, block })).length).toBeGreaterThan(
      4 * 1024 * 1024,
    );
    const back = decodeConsensusMessage(bytes);
    expect(back.type === "proposal" && Buffer.compare(back.block.payload, payload)).toBe(0);
  });

  it("rejects everything but the exact shape, with a stable code", () => {
    const variants: [string, Uint8Array][] = [];
    const withItem = (name: string, i: number, v: Uint8Array) => {
      const items = voteItems();
      items[i] = v;
      variants.push([name, RLP.encode(items)]);
    };
    withItem("non-canonical height (leading zero)", 2, Uint8Array.of(0, 3));
    withItem("zero as a 0x00 byte", 3, Uint8Array.of(0));
    withItem("vote type 3", 1, Uint8Array.of(3));
    withItem("round 0xffffffff", 3, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    withItem("height beyond safe integers", 2, new Uint8Array(8).fill(0xff));
    withItem("31-byte block hash", 4, new Uint8Array(31));
    withItem("19-byte address", 5, new Uint8Array(19));
    withItem("63-byte signature", 6, new Uint8Array(63));
    withItem("unknown kind", 0, Uint8Array.of(9));
    variants.push(["extra item", RLP.encode([...voteItems(), new Uint8Array(0)])]);
    variants.push(["missing item", RLP.encode(voteItems().slice(0, 6))]);
    const good = encodeConsensusMessage({ type: "vote", vote });
    variants.push(["trailing bytes", Uint8Array.from([...good, 0])]);
    variants.push(["truncated", good.subarray(0, good.length - 1)]);
    variants.push(["empty", new Uint8Array(0)]);
    variants.push(["a string, not a list", RLP.encode(new Uint8Array(10))]);
    variants.push(["legacy JSON", utf8ToBytes(encodeJson({ type: "vote", vote }))]);
    variants.push(["deep nesting", Uint8Array.from([...new Array(200_000).fill(0xc1), 0x80])]);
    const pItems = [
      Uint8Array.of(2),
      Uint8Array.of(3),
      Uint8Array.of(2),
      Uint8Array.of(3), // polRound + 1 = 3: polRound 2 is not below round 2
      h(proposal.blockHash),
      h(proposal.proposer),
      h(proposal.signature),
      A.payload,
    ];
    variants.push(["pol round not below round", RLP.encode(pItems)]);
    variants.push([
      "certificate without signatures",
      RLP.encode([Uint8Array.of(3), Uint8Array.of(3), Uint8Array.of(1), h(A.hash), []]),
    ]);
    variants.push([
      "certificate signature pair of 3",
      RLP.encode([
        Uint8Array.of(3),
        Uint8Array.of(3),
        Uint8Array.of(1),
        h(A.hash),
        [[h(vote.validator), h(vote.signature), new Uint8Array(0)]],
      ]),
    ]);
    for (const [name, bytes] of variants) {
      expect(() => decodeConsensusMessage(bytes), name).toThrow(expect.toSatisfy(isBad));
    }
    expect(() => decodeConsensusMessage(good, good.length - 1)).toThrow(expect.toSatisfy(isBad));
  });

  it("refuses to encode what it would not decode", () => {
    const bad: unknown[] = [
      { type: "proposal", proposal, block: makeBlock("B") }, // block is not the proposal's
      { type: "vote", vote: { ...vote, signature: "0x1234" } },
      { type: "vote", vote: { ...vote, round: -1 } },
      { type: "certificate", certificate: { ...cert, signatures: [{}] } },
    ];
    for (const m of bad)
      expect(() => encodeConsensusMessage(m as ConsensusMessage)).toThrow(expect.toSatisfy(isBad));
  });
});

describe("commit certificate codec", () => {
  it("round-trips, and reads the legacy JSON form strictly (lower-case hex out)", () => {
    expect(decodeCertificate(encodeCertificate(cert))).toEqual(cert);
    expect(decodeCertificate(utf8ToBytes(encodeJson(cert)))).toEqual(cert);
    const upper = {
      ...cert,
      signatures: cert.signatures.map((s) => ({
        ...s,
        validator: `0x${s.validator.slice(2).toUpperCase()}`,
      })),
    };
    expect(decodeCertificate(utf8ToBytes(encodeJson(upper)))).toEqual(cert);
  });

  it("rejects malformed certificates in either form", () => {
    const legacy = (c: unknown) => utf8ToBytes(JSON.stringify(c));
    const bad: Uint8Array[] = [
      legacy({ ...cert, signatures: [{}] }),
      legacy({ ...cert, signatures: [] }),
      legacy({ ...cert, extra: 1 }),
      legacy({ height: 3, round: 1, blockHash: A.hash }),
      legacy({ ...cert, round: 0x1_0000_0000 }),
      legacy({ ...cert, height: "3" }),
      legacy({ ...cert, signatures: [{ ...cert.signatures[0], more: 1 }] }),
      utf8ToBytes("{not json"),
      Uint8Array.from([...encodeCertificate(cert), 0]),
      encodeConsensusMessage({ type: "certificate", certificate: cert }), // the message, not the certificate
      new Uint8Array(0),
    ];
    for (const b of bad) expect(() => decodeCertificate(b)).toThrow(expect.toSatisfy(isBad));
    const many: CommitCertificate = { ...cert, signatures: new Array(10_001).fill(cert.signatures[0]) };
    expect(() => encodeCertificate(many)).toThrow(expect.toSatisfy(isBad));
  });
});
