import { bytesToHex, createNoopLogger, EventBus, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { type RpcEventMap, sendRawSyncMethods } from "@dseq/rpc";
import { describe, expect, it } from "vitest";
import { encodeFragment } from "../blockStream.ts";
import { createPreconfFeed, preconfirmationOf } from "./feed.ts";
import { preconfFromWire } from "./fromWire.ts";

const key = keccak256(new TextEncoder().encode("sync key"));
const tx = new Uint8Array([0x02, 5, 5, 5]);
const txHash = bytesToHex(keccak256(tx));

function setup(withSource: boolean) {
  const feed = createPreconfFeed();
  const events = new EventBus<RpcEventMap>({ name: "t", logger: createNoopLogger() });
  const submitted: Hex[] = [];
  const svc = {
    chain: { getTransactionLocation: async () => undefined },
    backend: {
      events,
      submitRawTransaction: async (raw: Uint8Array) => {
        submitted.push(bytesToHex(raw));
        return bytesToHex(keccak256(raw));
      },
    },
  } as never;
  const def = sendRawSyncMethods(svc, undefined, () => (withSource ? feed.source : undefined))
    .eth_sendRawTransactionSync as { run(args: unknown[], ctx: unknown): Promise<unknown> };
  const ctx = { signal: new AbortController().signal };
  return { feed, def, ctx, submitted };
}

describe("eth_sendRawTransactionSync with { preconfirmed: true }", () => {
  it("answers with the preconfirmed receipt as soon as a fragment carries the transaction", async () => {
    const { feed, def, ctx } = setup(true);
    const t0 = performance.now();
    const pending = def.run([bytesToHex(tx), 5_000, { preconfirmed: true }], ctx);
    await new Promise((r) => setTimeout(r, 20));
    const raw = encodeFragment(
      {
        height: 4,
        parentHash: bytesToHex(keccak256(new Uint8Array([4]))),
        timestamp: 8n,
        seq: 2,
        last: false,
        txs: [tx],
      },
      1337n,
      key,
    );
    // Another transaction's preconfirmation first: not an answer.
    feed.emit(preconfirmationOf(preconfFromWire(raw, 1337n), [{ transactionHash: `0x${"11".repeat(32)}` }]));
    feed.emit(preconfirmationOf(preconfFromWire(raw, 1337n), [{ transactionHash: txHash, status: "0x1" }]));
    const r = (await pending) as Record<string, unknown>;
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(r).toMatchObject({
      transactionHash: txHash,
      status: "0x1",
      blockHash: null,
      preconfirmation: { blockNumber: "0x4", index: "0x2", fragment: bytesToHex(raw) },
    });
    expect(feed.listeners).toBe(0); // the call unsubscribed
  });

  it("without the flag it waits for the committed block (code 4 past the timeout); refused without a source", async () => {
    const { feed, def, ctx } = setup(true);
    const pending = def.run([bytesToHex(tx), 200], ctx);
    await new Promise((r) => setTimeout(r, 20));
    expect(feed.listeners).toBe(0);
    await expect(pending).rejects.toThrow(/wasn.t processed in 200ms/);
    const bare = setup(false);
    await expect(bare.def.run([bytesToHex(tx), 200, { preconfirmed: true }], bare.ctx)).rejects.toThrow(
      /no preconfirmations/,
    );
    expect(bare.submitted).toEqual([]); // refused before submitting
  });
});
