import { bytesToHex, createNoopLogger } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import type { Preconfirmation } from "@dseq/rpc";
import { createCustomCommon, Mainnet } from "@ethereumjs/common";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { describe, expect, it } from "vitest";
import { type BlockFragment, decodeFragment, encodeFragment } from "../blockStream.ts";
import { conflictingFragment } from "../byzantine.ts";
import { verifyFragmentEvidence } from "./evidence.ts";
import { createPreconfService } from "./service.ts";

const key = keccak256(new TextEncoder().encode("service key"));
const f: BlockFragment = {
  height: 3,
  parentHash: bytesToHex(keccak256(new Uint8Array([3]))),
  timestamp: 10n,
  seq: 0,
  last: false,
  txs: [new Uint8Array([2, 1]), new Uint8Array([2, 2])],
};

describe("preconf service", () => {
  it("publishes each new fragment once, and turns a contradicting one into evidence, not a message", () => {
    const s = createPreconfService({ chainId: 1337n, logger: createNoopLogger() });
    const got: Preconfirmation[] = [];
    const off = s.source.subscribe((p) => got.push(p));
    const raw = encodeFragment(f, 1337n, key);
    expect(s.own(raw).kind).toBe("new");
    expect(s.gossiped(decodeFragment(raw, 1337n), raw).kind).toBe("duplicate");
    const twin = encodeFragment(conflictingFragment(f), 1337n, key);
    expect(s.gossiped(decodeFragment(twin, 1337n), twin).kind).toBe("equivocation");
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ blockNumber: 3n, index: 0, fragment: bytesToHex(raw) });
    expect(s.evidence()).toHaveLength(1);
    expect(() => verifyFragmentEvidence(s.evidence()[0] as never, 1337n)).not.toThrow();
    expect(s.store.prefix(3, 0)?.txHashes).toHaveLength(2);
    off();
  });
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("preconf service with receipts (ADR 0175)", () => {
  const common = createCustomCommon({ chainId: 1337 }, Mainnet, { hardfork: "prague" });
  const signed = (nonce: bigint) =>
    createFeeMarket1559Tx(
      {
        chainId: 1337n,
        nonce,
        to: `0x${"22".repeat(20)}`,
        value: 1n,
        gasLimit: 50_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
      },
      { common },
    ).sign(key);
  const [a, b] = [signed(0n), signed(1n)];
  const emitter = new Uint8Array(20).fill(0x33);
  const topic = new Uint8Array(32).fill(0x44);

  it("publishes a fragment once the build ran each of its transactions, with their receipts", async () => {
    const s = createPreconfService(
      { chainId: 1337n, logger: createNoopLogger() },
      { awaitReceipts: true, receiptWaitMs: 60_000 },
    );
    const got: Preconfirmation[] = [];
    s.source.subscribe((p) => got.push(p));
    const raw = encodeFragment({ ...f, txs: [a.serialize(), b.serialize()] }, 1337n, key);
    expect(s.own(raw).kind).toBe("new");
    s.outcomes.included(3, {
      tx: a,
      index: 0,
      receipt: {
        cumulativeBlockGasUsed: 23_000n,
        bitvector: new Uint8Array(256),
        logs: [[emitter, [topic], new Uint8Array([1, 2])]],
        status: 1,
      },
      gasUsed: 23_000n,
      firstLogIndex: 0,
      baseFee: 7n,
    });
    await turn();
    expect(got).toHaveLength(0); // b has not run yet
    s.outcomes.skipped(3, bytesToHex(b.hash()));
    expect(got).toHaveLength(0); // outcomes are settled off the build's path, once per turn
    await turn();
    expect(got).toHaveLength(1);
    const [r] = got[0]?.receipts ?? [];
    expect(got[0]?.receipts).toHaveLength(1); // the skipped one has none
    expect(got[0]?.gasUsed).toBe(23_000n);
    expect(r).toMatchObject({
      transactionHash: bytesToHex(a.hash()),
      blockHash: null,
      blockNumber: "0x3",
      transactionIndex: "0x0",
      status: "0x1",
      gasUsed: "0x59d8",
      cumulativeGasUsed: "0x59d8",
      effectiveGasPrice: "0x8", // base fee 7 + tip 1
      from: a.getSenderAddress().toString(),
      logs: [{ address: bytesToHex(emitter), topics: [bytesToHex(topic)], data: "0x0102", logIndex: "0x0" }],
    });
    expect(s.receipt(bytesToHex(a.hash()))).toEqual(r);
    expect(s.receipt(bytesToHex(b.hash()))).toBeUndefined();
    s.close();
  });

  it("publishes without receipts once the wait is over (no build ran the fragment)", async () => {
    const s = createPreconfService(
      { chainId: 1337n, logger: createNoopLogger() },
      { awaitReceipts: true, receiptWaitMs: 50 },
    );
    const got: Preconfirmation[] = [];
    s.source.subscribe((p) => got.push(p));
    s.own(encodeFragment({ ...f, txs: [a.serialize()] }, 1337n, key));
    expect(got).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(got).toHaveLength(1);
    expect(got[0]?.receipts).toEqual([]);
    s.close();
  });
});
