import { bytesToHex, createNoopLogger, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { type Json, type Session, SubscriptionManager } from "@dseq/rpc";
import { describe, expect, it } from "vitest";
import { decodeFragment, encodeFragment } from "../blockStream.ts";
import { createPreconfFeed, preconfirmationOf } from "./feed.ts";
import { preconfFromWire } from "./fromWire.ts";

const key = keccak256(new TextEncoder().encode("feed key"));
const tx = new Uint8Array([0x02, 7, 7]);
const txHash = bytesToHex(keccak256(tx));

function session(id: number): Session & { got: { sub: string; result: Json }[]; close(): void } {
  const closers: (() => void)[] = [];
  const got: { sub: string; result: Json }[] = [];
  return {
    id,
    got,
    notify: (sub, result) => {
      got.push({ sub, result });
      return true;
    },
    onClose: (fn) => closers.push(fn),
    close: () => {
      for (const c of closers) c();
    },
  };
}

describe("preconf feed through eth_subscribe", () => {
  const raw = encodeFragment(
    {
      height: 9,
      parentHash: bytesToHex(keccak256(new Uint8Array([1]))),
      timestamp: 100n,
      seq: 0,
      last: false,
      txs: [tx],
    },
    1337n,
    key,
  );
  const receipt = { transactionHash: txHash, status: "0x1", gasUsed: "0x5208" };
  const p = preconfirmationOf(preconfFromWire(raw, 1337n), [receipt], 21_000n);

  it("delivers the signed fragment and its receipts as preconfirmations and as a Flashblocks payload", () => {
    const feed = createPreconfFeed();
    const svc = { chain: { heads: () => ({ latest: 0n }) }, logger: createNoopLogger() } as never;
    const subs = new SubscriptionManager(svc, undefined);
    const s = session(1);
    expect(() => subs.subscribe(s, "preconfirmations", undefined)).toThrow(/no preconfirmations/);
    subs.setPreconfSource(feed.source);
    const a = subs.subscribe(s, "preconfirmations", undefined);
    const b = subs.subscribe(s, "newFlashblocks", undefined);
    feed.emit(p);
    expect(s.got.map((g) => g.sub)).toEqual([a, b]);
    const plain = s.got[0]?.result as Record<string, Json>;
    expect(plain).toMatchObject({ blockNumber: "0x9", index: "0x0", round: "0x0", receipts: [receipt] });
    // The message alone proves who promised what: the fragment's signature recovers the proposer.
    const again = decodeFragment(
      Uint8Array.from(Buffer.from((plain.fragment as string).slice(2), "hex")),
      1337n,
    );
    expect(again.signer).toBe(plain.proposer);
    expect((plain.signature as Hex).length).toBe(2 + 130);
    const flash = s.got[1]?.result as Record<string, Record<string, Json>>;
    expect(flash).toMatchObject({
      index: 0,
      base: { block_number: "0x9" },
      diff: { transactions: [bytesToHex(tx)], gas_used: "0x5208" },
      metadata: { block_number: 9, receipts: { [txHash]: receipt } },
    });
    s.close();
    expect(subs.size).toBe(0);
    subs.close();
    expect(feed.listeners).toBe(0);
  });
});
