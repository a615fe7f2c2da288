import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { BeaconBlobError, createBeaconBlobSource, parseBlobSidecars } from "./beaconBlobSource.ts";

const blob = `0x${"00".repeat(131_072)}`;
const k48 = `0x${"11".repeat(48)}`;
const good = { index: "0", blob, kzg_commitment: k48, kzg_proof: k48 };

describe("parseBlobSidecars: a beacon answer is hostile input", () => {
  it("reads well-formed sidecars", () => {
    const [s] = parseBlobSidecars(JSON.stringify({ data: [good] }), 4);
    expect([s!.blob.length, s!.commitment.length, s!.proof.length]).toEqual([131_072, 48, 48]);
  });

  it("refuses non-JSON, a missing data array, too many sidecars, short or non-hex fields", () => {
    const bad = [
      "not json",
      JSON.stringify({ nodata: [] }),
      JSON.stringify({ data: [good, good] }),
      JSON.stringify({ data: [{ ...good, blob: "0x00" }] }),
      JSON.stringify({ data: [{ ...good, kzg_proof: `0x${"zz".repeat(48)}` }] }),
      JSON.stringify({ data: [{ ...good, kzg_commitment: undefined }] }),
    ];
    for (const t of bad) expect(() => parseBlobSidecars(t, 1)).toThrow(BeaconBlobError);
  });
});

describe("createBeaconBlobSource over HTTP", () => {
  it("asks for the block id, treats 404 as no sidecars, refuses an oversized answer without buffering it", async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      if (req.url?.endsWith("/7")) return res.writeHead(404).end("{}");
      res.writeHead(200, { "content-type": "application/json" });
      // Far more than one sidecar's worth for a source bounded to one.
      res.end(JSON.stringify({ data: Array.from({ length: 4 }, () => good) }));
    });
    await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1" }, () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const src = createBeaconBlobSource({ url, maxSidecars: 1 });
      expect(await src.sidecars({ number: 7n, hash: "0x00" })).toEqual([]);
      await expect(src.sidecars({ number: 8n, hash: "0x00" })).rejects.toThrow(/over \d+ bytes/);
      expect(paths).toEqual(["/eth/v1/beacon/blob_sidecars/7", "/eth/v1/beacon/blob_sidecars/8"]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
