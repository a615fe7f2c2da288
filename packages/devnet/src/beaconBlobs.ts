// The dev L1's blob source: EDR keeps no blob sidecars and has no beacon API, so the devnet's L1
// forwarder hands every accepted eth_sendRawTransaction to `capture`, which keeps the sidecars
// of blob transactions (bounded), and this server answers the beacon API's
// GET /eth/v1/beacon/blob_sidecars/{block_id} for the L1 block that included them (ADR 0182).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rpc } from "@dseq/l1-contracts";
import { type Hex, parseTransaction, sha256 } from "viem";

export type BeaconBlobsOptions = {
  /** EDR's own endpoint: which blob transactions a block holds. */
  l1Url: string;
  /** Most sidecars kept (oldest dropped first); default 1,024 (128 MiB of blobs). */
  maxBlobs?: number;
  /** Request bodies over this are not inspected; default 8 MiB (a 6-blob transaction is ~1.6 MB). */
  maxBodyBytes?: number;
};

export type BeaconBlobs = {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** An L1 JSON-RPC request body and the L1's answer: sidecars of accepted blob transactions are kept. */
  capture(request: Uint8Array, response: Uint8Array): void;
  /** Sidecars held (tests). */
  readonly size: number;
  stop(): Promise<void>;
};

const SEND = "eth_sendRawTransaction";

type Sidecar = { blob: Hex; commitment: Hex; proof: Hex };

const versionedHash = (commitment: Hex): string => `0x01${sha256(commitment).slice(4)}`;

type RpcCall = { method?: unknown; params?: unknown; id?: unknown };
type RpcAnswer = { id?: unknown; result?: unknown; error?: unknown };

const parseJson = (b: Uint8Array): unknown => {
  try {
    return JSON.parse(Buffer.from(b).toString("utf8"));
  } catch {
    return undefined;
  }
};

export async function startBeaconBlobs(opts: BeaconBlobsOptions): Promise<BeaconBlobs> {
  const maxBlobs = opts.maxBlobs ?? 1024;
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const byHash = new Map<string, Sidecar>();

  const keep = (raw: string): void => {
    if (!raw.startsWith("0x03")) return;
    let tx: ReturnType<typeof parseTransaction>;
    try {
      tx = parseTransaction(raw as Hex);
    } catch {
      return;
    }
    const sidecars = (tx as { sidecars?: { blob: Hex; commitment: Hex; proof: Hex }[] }).sidecars;
    for (const s of sidecars ?? []) {
      const k = versionedHash(s.commitment);
      byHash.delete(k);
      byHash.set(k, { blob: s.blob, commitment: s.commitment, proof: s.proof });
      while (byHash.size > maxBlobs) byHash.delete(byHash.keys().next().value as string);
    }
  };

  const capture = (request: Uint8Array, response: Uint8Array): void => {
    if (request.length > maxBody || response.length > 64 * 1024) return;
    // Most traffic is reads: skip parsing anything that cannot hold a send.
    if (!Buffer.from(request.buffer, request.byteOffset, request.length).includes(SEND)) return;
    const req = parseJson(request);
    const res = parseJson(response);
    const calls = (Array.isArray(req) ? req : [req]) as RpcCall[];
    const answers = (Array.isArray(res) ? res : [res]) as RpcAnswer[];
    for (const c of calls) {
      if (c?.method !== "eth_sendRawTransaction" || !Array.isArray(c.params)) continue;
      const a = answers.find((x) => x?.id === c.id);
      // Only what the L1 accepted: a refused transaction's sidecars never reach a block.
      if (!a || a.error !== undefined || typeof a.result !== "string") continue;
      const raw = c.params[0];
      if (typeof raw === "string") keep(raw);
    }
  };

  type L1Block = { transactions: { blobVersionedHashes?: Hex[] }[] } | null;
  const blockOf = async (id: string): Promise<L1Block | "bad"> => {
    if (id === "head") return rpc<L1Block>(opts.l1Url, "eth_getBlockByNumber", ["latest", true]);
    if (/^0x[0-9a-fA-F]{64}$/.test(id)) return rpc<L1Block>(opts.l1Url, "eth_getBlockByHash", [id, true]);
    if (!/^[0-9]{1,15}$/.test(id)) return "bad";
    return rpc<L1Block>(opts.l1Url, "eth_getBlockByNumber", [`0x${BigInt(id).toString(16)}`, true]);
  };

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const m = /^\/eth\/v1\/beacon\/blob_sidecars\/([^/?]+)(\?.*)?$/.exec(req.url ?? "");
    if (req.method !== "GET" || !m) return send(404, { code: 404, message: "not found" });
    const id = decodeURIComponent(m[1]!);
    blockOf(id)
      .then((block) => {
        if (block === "bad") return send(400, { code: 400, message: `invalid block id ${id.slice(0, 80)}` });
        if (!block) return send(404, { code: 404, message: `block ${id.slice(0, 80)} not found` });
        const hashes = block.transactions.flatMap((t) => t.blobVersionedHashes ?? []);
        const data = hashes.flatMap((h, index) => {
          const s = byHash.get(h.toLowerCase());
          return s
            ? [{ index: String(index), blob: s.blob, kzg_commitment: s.commitment, kzg_proof: s.proof }]
            : [];
        });
        send(200, { data });
      })
      .catch((err: unknown) => send(500, { code: 500, message: (err as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    capture,
    get size() {
      return byHash.size;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
