import { parseTransaction, recoverTransactionAddress } from "viem";
import { keccak256 } from "viem/utils";
import { describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { loadAccounts } from "./accounts.ts";
import { quantile, signTransfers, subscribeWs } from "./load.ts";

describe("signTransfers", () => {
  it("signs round-robin with local nonces, recoverable to the right sender", async () => {
    const accounts = loadAccounts(3);
    const txs = signTransfers({ accounts, chainId: 4242 }, [5, 0, 9], 7);
    expect(txs).toHaveLength(7);
    const expected = [
      [0, 5],
      [1, 0],
      [2, 9],
      [0, 6],
      [1, 1],
      [2, 10],
      [0, 7],
    ];
    for (const [i, tx] of txs.entries()) {
      const [k, nonce] = expected[i] as [number, number];
      const parsed = parseTransaction(tx.raw);
      expect(parsed.nonce).toBe(nonce);
      expect(parsed.chainId).toBe(4242);
      expect(parsed.to).toBe(accounts[(k + 1) % 3]?.address);
      expect(parsed.gas).toBe(21_000n);
      const from = await recoverTransactionAddress({ serializedTransaction: tx.raw as `0x02${string}` });
      expect(from.toLowerCase()).toBe(accounts[k]?.address);
      expect(tx.hash).toBe(keccak256(tx.raw));
    }
  });

  it("load accounts are deterministic and distinct", () => {
    const a = loadAccounts(50);
    expect(loadAccounts(50)).toEqual(a);
    expect(new Set(a.map((x) => x.address)).size).toBe(50);
  });
});

describe("quantile", () => {
  it("uses the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("subscribeWs", () => {
  // A real WebSocket server on 127.0.0.1 that answers eth_subscribe as `answer` says.
  const server = async (answer: "confirm" | "refuse" | "silent") => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    const sockets: WebSocket[] = [];
    wss.on("connection", (ws) => {
      sockets.push(ws);
      ws.on("message", (raw) => {
        const req = JSON.parse(String(raw)) as { id: number };
        if (answer === "confirm") {
          ws.send(JSON.stringify({ jsonrpc: "2.0", id: req.id, result: "0x1" }));
          ws.send(
            JSON.stringify({
              jsonrpc: "2.0",
              method: "eth_subscription",
              params: { subscription: "0x1", result: 7 },
            }),
          );
        } else if (answer === "refuse")
          ws.send(JSON.stringify({ jsonrpc: "2.0", id: req.id, error: { code: -32601, message: "no" } }));
      });
    });
    const { port } = wss.address() as { port: number };
    return {
      url: `ws://127.0.0.1:${port}`,
      dropClients: () => {
        for (const s of sockets) s.terminate();
      },
      close: () => new Promise<void>((r) => wss.close(() => r())),
    };
  };

  it("is ready once the node confirmed the subscription, and only then", async () => {
    const srv = await server("confirm");
    const got: unknown[] = [];
    const sub = subscribeWs(srv.url, ["newHeads"], (r) => got.push(r));
    expect(await sub.ready).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([7]);
    expect(sub.lost()).toBe(false);
    sub.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(sub.lost()).toBe(false); // closed by us, not lost
    await srv.close();

    const refusing = await server("refuse");
    const refused = subscribeWs(refusing.url, ["preconfirmations"], () => {});
    expect(await refused.ready).toBe(false);
    refused.close();
    await refusing.close();
  });

  it("reports the stream lost when the node closes it during the run", async () => {
    const srv = await server("confirm");
    const sub = subscribeWs(srv.url, ["preconfirmations"], () => {});
    expect(await sub.ready).toBe(true);
    srv.dropClients();
    await new Promise((r) => setTimeout(r, 100));
    expect(sub.lost()).toBe(true);
    sub.close();
    await srv.close();
  });

  it("is not ready when nothing listens", async () => {
    const srv = await server("silent");
    const url = srv.url;
    await srv.close();
    const sub = subscribeWs(url, ["newHeads"], () => {});
    expect(await sub.ready).toBe(false);
    expect(sub.lost()).toBe(true);
    sub.close();
  });
});
