/**
 * The `pending` tag and receipts on real nodes (issue #19, ADR 0176, 0177): two validators in one
 * process, a transfer sent with viem; before its block commits, `eth_getBalance(pending)` of the
 * recipient already shows it and `eth_getTransactionReceipt` answers the preconfirmed receipt, on
 * the proposer and on the other validator; once committed, the committed receipt, equal to the
 * promised one in every field but the block hash.
 */
import type { Hex } from "@dseq/common";
import { createPublicClient, createWalletClient, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalNet, startLocalNet } from "../helpers/localNet.ts";

const chain = {
  id: 1337,
  name: "dseq-test",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1"] } },
} as const;
const ZERO_HASH = `0x${"00".repeat(32)}`;

async function rawReceipt(url: string, hash: Hex, tag?: "pending"): Promise<Record<string, unknown> | null> {
  const params = tag === undefined ? [hash] : [hash, tag];
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionReceipt", params }),
  });
  return ((await res.json()) as { result: Record<string, unknown> | null }).result;
}

const nextHead = async (c: PublicClient, after: bigint): Promise<bigint> => {
  for (;;) {
    const n = await c.getBlockNumber({ cacheTime: 0 });
    if (n > after) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("pending reads and preconfirmed receipts on real nodes (ADR 0177)", { timeout: 120_000 }, () => {
  let net: LocalNet;
  beforeAll(async () => {
    // Node 0 keeps the default (a receipt means committed, preconfirmed ones on request); node 1
    // is a Flashblocks-style endpoint that answers them unasked (ADR 0179).
    net = await startLocalNet({
      validators: 2,
      blockTimeMs: 2000,
      rpc: true,
      spanLength: 1000,
      preconfirmedReceipts: [1],
    });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it("the recipient's pending balance and the receipt are there before the commit; the committed receipt matches", async () => {
    const urls = net.rpcUrls.slice(0, 2);
    const clients = urls.map((url) => createPublicClient({ chain, transport: http(url) })) as PublicClient[];
    const c0 = clients[0] as PublicClient;
    const sender = net.funded[0] as { privateKey: Hex; address: Hex };
    const wallet = createWalletClient({
      account: privateKeyToAccount(sender.privateKey),
      chain,
      transport: http(urls[0]),
    });
    const value = 123_456_789n;
    let checked = false;
    for (let attempt = 0; attempt < 5 && !checked; attempt++) {
      const to = `0x${(0xbeef00 + attempt).toString(16).padStart(40, "0")}` as Hex;
      // Send just after a commit: a whole slot (2 s) before the block that takes it commits.
      const head = await nextHead(c0, await c0.getBlockNumber({ cacheTime: 0 }));
      const hash = await wallet.sendTransaction({ to, value });
      const pre: (Record<string, unknown> | null)[] = [];
      let before = true;
      for (const [i, c] of clients.entries()) {
        let balance = 0n;
        for (;;) {
          balance = await c.getBalance({ address: to, blockTag: "pending" });
          if (balance !== 0n || (await c.getBlockNumber({ cacheTime: 0 })) !== head) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        pre[i] = await rawReceipt(urls[i] as string, hash, "pending");
        // Unasked, node 0 answers only committed receipts: none yet.
        const unasked = i === 0 ? await rawReceipt(urls[i] as string, hash) : null;
        const latest = await c.getBalance({ address: to, blockTag: "latest" });
        // All of it read while the head stood still: the block with the transfer had not committed.
        const still = (await c.getBlockNumber({ cacheTime: 0 })) === head;
        before &&= balance === value && latest === 0n && still;
        if (i === 0 && still) expect(unasked).toBeNull();
      }
      if (!before) continue; // the commit overtook the reads (a slow machine): once more
      for (const r of pre) {
        expect(r).toMatchObject({
          transactionHash: hash,
          blockHash: ZERO_HASH,
          blockNumber: `0x${(head + 1n).toString(16)}`,
          status: "0x1",
          gasUsed: "0x5208",
          from: sender.address,
          to,
        });
      }
      expect(pre[1]).toEqual(pre[0]); // proposer and the other validator promise the same
      // On the Flashblocks-style endpoint viem reads the preconfirmed receipt as any other.
      const viaViem = await (clients[1] as PublicClient).getTransactionReceipt({ hash });
      expect(viaViem.status).toBe("success");
      expect(viaViem.blockNumber).toBe(head + 1n);

      // waitForTransactionReceipt resolves on the preconfirmed receipt (as on a Flashblocks node):
      // wait for the block itself.
      const early = await clients[1]?.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      expect(early?.blockHash).toBe(ZERO_HASH);
      await nextHead(c0, head);
      await nextHead(clients[1] as PublicClient, head);
      const committed = await clients[1]?.getTransactionReceipt({ hash });
      expect(committed?.blockHash).not.toBe(ZERO_HASH);
      expect(committed?.blockNumber).toBe(head + 1n);
      for (const [i, url] of urls.entries()) {
        const after = (await rawReceipt(url, hash)) as Record<string, unknown>;
        expect(after.blockHash).toBe(committed?.blockHash);
        const { blockHash: _a, ...restAfter } = after;
        const { blockHash: _b, ...restPre } = pre[i] as Record<string, unknown>;
        expect(restAfter).toEqual(restPre);
        expect(await clients[i]?.getBalance({ address: to, blockTag: "latest" })).toBe(value);
      }
      checked = true;
    }
    expect(checked).toBe(true);
  });
});
