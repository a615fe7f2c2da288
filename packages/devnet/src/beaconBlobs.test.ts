import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Hex, serializeTransaction, sha256 } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BeaconBlobs, startBeaconBlobs } from "./beaconBlobs.ts";

// A stand-in for EDR's eth_getBlockByNumber (the real one runs in test/derive.test.ts).
const commitment = `0x${"aa".repeat(48)}` as Hex;
const vh = `0x01${sha256(commitment).slice(4)}` as Hex;
let l1: ReturnType<typeof createServer>;
let beacon: BeaconBlobs;

const rawBlobTx = serializeTransaction({
  type: "eip4844",
  chainId: 31337,
  nonce: 0,
  to: "0x0000000000000000000000000000000000000001",
  maxFeePerGas: 1n,
  maxPriorityFeePerGas: 1n,
  maxFeePerBlobGas: 1n,
  gas: 21_000n,
  blobVersionedHashes: [vh],
  sidecars: [{ blob: `0x${"01".repeat(131_072)}`, commitment, proof: `0x${"bb".repeat(48)}` }],
});
const body = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const send = { jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [rawBlobTx] };

beforeAll(async () => {
  l1 = createServer((req, res) => {
    let b = "";
    req.on("data", (c) => (b += c));
    req.on("end", () => {
      const { id, params } = JSON.parse(b);
      const found = params[0] === "0x5";
      res.end(
        JSON.stringify({
          jsonrpc: "2.0",
          id,
          result: found ? { transactions: [{ blobVersionedHashes: [vh] }] } : null,
        }),
      );
    });
  });
  await new Promise<void>((r) => l1.listen({ port: 0, host: "127.0.0.1" }, () => r()));
  beacon = await startBeaconBlobs({
    l1Url: `http://127.0.0.1:${(l1.address() as AddressInfo).port}`,
    maxBlobs: 2,
  });
});
afterAll(async () => {
  await beacon?.stop();
  l1?.closeAllConnections();
  await new Promise((r) => l1?.close(r));
});

describe("devnet beacon blob server", () => {
  it("keeps nothing from a blob transaction the L1 refused, or from other calls", () => {
    beacon.capture(body(send), body({ jsonrpc: "2.0", id: 1, error: { code: -32000, message: "nope" } }));
    beacon.capture(body({ ...send, method: "eth_call" }), body({ jsonrpc: "2.0", id: 1, result: "0x" }));
    beacon.capture(new TextEncoder().encode("garbage"), body({ id: 1, result: "0x" }));
    expect(beacon.size).toBe(0);
  });

  it("serves an accepted transaction's sidecar for the block that holds it; 404 and 400 otherwise", async () => {
    beacon.capture(body([send]), body([{ jsonrpc: "2.0", id: 1, result: `0x${"cc".repeat(32)}` }]));
    expect(beacon.size).toBe(1);
    const ok = await fetch(`${beacon.url}/eth/v1/beacon/blob_sidecars/5`);
    const { data } = (await ok.json()) as { data: { index: string; kzg_commitment: string; blob: string }[] };
    expect(data.map((s) => [s.index, s.kzg_commitment, s.blob.length])).toEqual([
      ["0", commitment, 2 + 2 * 131_072],
    ]);
    expect((await fetch(`${beacon.url}/eth/v1/beacon/blob_sidecars/6`)).status).toBe(404);
    expect((await fetch(`${beacon.url}/eth/v1/beacon/blob_sidecars/x1`)).status).toBe(400);
    expect((await fetch(`${beacon.url}/other`)).status).toBe(404);
  });
});
