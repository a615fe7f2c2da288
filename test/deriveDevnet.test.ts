// e2e of #18 on the devnet's OWN batches: 4 real `dseq start` validators on a dev L1 (EDR, 1 s
// blocks, automine plus a ticker so blob transactions land) post calldata and blob batches
// threshold-signed by the genesis DKG's key while load runs; a `dseq derive`
// process started afterwards from L1 alone (the devnet's chain spec and the nodes' l1 section,
// no peer) reaches the inbox's last batch with every block hash equal to the validators', keeps
// following, and after SIGKILL resumes from its own store. afterAll stops every process and
// removes the temp dir.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchDataKind, inboxReader } from "../packages/batch-submitter/src/index.ts";
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import {
  type Devnet,
  getBlock,
  rpcCall,
  runLoad,
  startDevnet,
  writeVerifierConfig,
} from "../packages/devnet/src/index.ts";
import { freePort } from "../packages/node/test/helpers/localNet.ts";
import { waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "derive-devnet-e2e" } });
const BIN = join(import.meta.dirname, "..", "packages", "node", "bin", "dseq.mjs");

type SyncStatus = {
  derivedHead: string;
  derivedHash: string;
  lastBatchIndex: string;
  lastBatchL1Block: string;
  halted?: { code: string; message: string };
};

describe("derive: a verifier rebuilds the devnet's own batches from L1 alone", () => {
  let root: string;
  let d: Devnet;
  let inbox: ReturnType<typeof inboxReader>;
  let verifierUrl: string;
  let configPath: string;
  let verifier: { child: ChildProcess; output: () => string } | undefined;
  const load = new AbortController();
  let loadDone: Promise<unknown> | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "derive-devnet-e2e-"));
    const t0 = Date.now();
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: 1000,
      spanLength: 1000,
      loadAccounts: 8,
      readyTimeoutMs: 120_000,
      l1: {
        blockTimeSeconds: 1,
        confirmations: 2,
        pollIntervalMs: 300,
        // v1, v3 post blobs, v2, v4 calldata; the dev L1 automines plus a 1 s ticker (ADR 0186).
        batches: {
          kind: "alternate",
          maxBlocks: 8,
          maxAgeSeconds: 5,
          confirmations: 2,
          takeoverMs: 5000,
          pollMs: 500,
        },
      },
      logger: log,
    });
    inbox = inboxReader(d.l1!.directUrl, d.l1!.deployment.batchInbox);
    log.info("derive devnet up", { ms: Date.now() - t0 });
    loadDone = runLoad({
      rpcUrls: d.validators.map((v) => v.rpcUrl),
      accounts: d.loadAccounts,
      chainId: d.chainId,
      tps: 20,
      durationMs: 600_000,
      drainMs: 0,
      signal: load.signal,
    }).catch(() => undefined);
    // What a verifier needs, as the devnet records it: the chain spec and the nodes' l1 section.
    const port = await freePort();
    verifierUrl = `http://127.0.0.1:${port}`;
    configPath = join(root, "verifier.json");
    writeVerifierConfig(d.dataDir, d.chainSpecPath, {
      path: configPath,
      dataDir: join(root, "verifier"),
      port,
    });
  }, 240_000);

  afterAll(async () => {
    verifier?.child.kill("SIGKILL");
    load.abort();
    await loadDone;
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  const startCli = (): { child: ChildProcess; output: () => string } => {
    const child = spawn(
      process.execPath,
      [BIN, "derive", "--config", configPath, "--beacon", d.l1!.beaconUrl],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    const keep = (b: Buffer) => {
      out += b.toString();
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    return { child, output: () => out };
  };
  const status = () => rpcCall<SyncStatus>(verifierUrl, "dseq_syncStatus", [], 2000);
  const derivedTo = (block: bigint, ms: number) =>
    waitFor(
      `the verifier at block ${block}`,
      async () => {
        const s = await status();
        if (s.halted) throw new Error(`verifier halted: ${s.halted.code} ${s.halted.message}`);
        return BigInt(s.derivedHead) >= block ? s : undefined;
      },
      ms,
      300,
    );

  /** Every block 1..upTo: the verifier's hash equals the validator's. */
  async function expectSameHashes(upTo: bigint): Promise<void> {
    const v = d.validators[0]!;
    for (let n = 1; n <= Number(upTo); n++) {
      const [mine, theirs] = await Promise.all([getBlock(verifierUrl, n), getBlock(v.rpcUrl, n)]);
      expect(mine?.hash, `block ${n}`).toBe(theirs?.hash);
      expect(mine?.hash).toMatch(/^0x[0-9a-f]{64}$/);
    }
  }

  /** The batches on L1 carry both kinds: type-3 transactions with blobs, calldata appendBatch. */
  async function kindsOnL1(): Promise<{ blobs: number; calldata: number }> {
    const seen = { blobs: 0, calldata: 0 };
    for (const b of await inbox.batches()) {
      const tx = await rpcCall<{ type: string; blobVersionedHashes?: Hex[]; input: Hex }>(
        d.l1!.directUrl,
        "eth_getTransactionByHash",
        [b.txHash],
        2000,
      );
      if (b.dataKind === BatchDataKind.blobs) {
        expect(tx.type).toBe("0x3");
        expect(tx.blobVersionedHashes?.length).toBeGreaterThan(0);
        seen.blobs++;
      } else {
        expect(b.dataKind).toBe(BatchDataKind.calldata);
        expect(tx.type).not.toBe("0x3");
        seen.calldata++;
      }
    }
    return seen;
  }

  it("started later from L1 alone, it reaches the inbox's last batch with the validators' block hashes", async () => {
    await waitFor(
      "2 batches on L1, blobs and calldata",
      async () => {
        const k = await kindsOnL1();
        return k.blobs >= 1 && k.calldata >= 1 && k.blobs + k.calldata >= 2;
      },
      120_000,
      500,
    );
    const batches = await inbox.batches();
    const last = batches.at(-1)!;
    verifier = startCli();
    const s = await derivedTo(last.lastBlock, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${verifier!.output().slice(-4000)}`);
    });
    expect(BigInt(s.lastBatchIndex)).toBeGreaterThanOrEqual(last.batchIndex);
    await expectSameHashes(last.lastBlock);
    log.info("verifier caught up", {
      batches: batches.length,
      lastBlock: last.lastBlock.toString(),
      ...(await kindsOnL1()),
    });
  }, 180_000);

  it("keeps following as new batches land", async () => {
    const before = BigInt((await status()).lastBatchIndex);
    const next = await waitFor(
      `batch ${before + 1n} on L1`,
      async () => (await inbox.batches()).find((b) => b.batchIndex === before + 1n),
      60_000,
      500,
    );
    await derivedTo(next.lastBlock, 60_000);
    await expectSameHashes(next.lastBlock);
  }, 120_000);

  it("killed (SIGKILL) and restarted on its data dir, it resumes from its own store and follows", async () => {
    const before = await status();
    const exited = new Promise((r) => verifier!.child.once("exit", r));
    verifier!.child.kill("SIGKILL");
    await exited;
    verifier = startCli();
    const first = await waitFor("the restarted verifier's RPC", () => status(), 30_000, 100);
    expect(BigInt(first.derivedHead)).toBeGreaterThanOrEqual(BigInt(before.derivedHead));
    // Nothing it had derived is derived again: it started at its stored tip.
    const started = await waitFor(
      "the restarted verifier's start line",
      async () =>
        verifier!
          .output()
          .split("\n")
          .find((l) => l.includes('"msg":"verifier started"')),
      10_000,
      100,
    );
    const startedAt = JSON.parse(started) as { derivedHead: string; lastBatch: string };
    expect(BigInt(startedAt.derivedHead)).toBeGreaterThanOrEqual(BigInt(before.derivedHead));
    expect(BigInt(startedAt.lastBatch)).toBeGreaterThanOrEqual(BigInt(before.lastBatchIndex));
    const next = await waitFor(
      "a batch after the restart",
      async () => (await inbox.batches()).find((b) => b.batchIndex > BigInt(before.lastBatchIndex)),
      60_000,
      500,
    );
    await derivedTo(next.lastBlock, 60_000);
    await expectSameHashes(next.lastBlock);
    const rederived = verifier!
      .output()
      .split("\n")
      .filter((l) => l.includes('"msg":"batch derived"'))
      .map((l) => JSON.parse(l) as { batchIndex?: string })
      .filter((l) => l.batchIndex !== undefined && BigInt(l.batchIndex) <= BigInt(before.lastBatchIndex));
    expect(rederived).toEqual([]);
    const exit = new Promise<number | null>((r) => verifier!.child.once("exit", (c) => r(c)));
    verifier!.child.kill("SIGTERM");
    expect(await exit).toBe(0);
    verifier = undefined;
  }, 120_000);
});
