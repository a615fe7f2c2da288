/**
 * `pnpm bench derive` (issue #18), all real parts: a devnet of 2 `dseq start` validators (the
 * smallest FROST group) on a dev L1 (EDR) makes a history of transfer blocks back to back
 * (genesis in the past, ADR 0093) under load, and posts it to the BatchInbox as threshold-signed
 * batches (v1 blobs, v2 calldata: `alternate`) until the inbox covers >= 1,000 blocks; the load
 * stops and the chain reaches the present (1 s slots again). Then, one after the other:
 * - a fresh `dseq derive` process, from L1 alone (chain spec + l1 section + the devnet's beacon
 *   blob endpoint, no peer), up to the inbox's last batched block;
 * - the devnet's follower (`dseq start`, never started before, empty data dir) catching up on
 *   the same blocks over p2p from the validators.
 * Each rate is the blocks up to that block over the wall time from spawning the process to its
 * head reaching it (process start-up included); both must hold the validator's block hash there.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@dseq/common";
import { BatchDataKind, BatchInboxArtifact } from "@dseq/l1-contracts";
import { type Abi, createPublicClient, http } from "viem";
import { type Devnet, DSEQ_BIN, startDevnet, writeVerifierConfig } from "../src/devnet.ts";
import { blockNumber, getBlock, rpcBatch, rpcCall } from "../src/jsonRpc.ts";
import { runLoad } from "../src/load.ts";
import { ManagedProcess } from "../src/managedProcess.ts";
import { allocatePorts } from "../src/ports.ts";

export const description =
  "2 validators on a dev L1 (EDR) post >= 1,000 transfer blocks as calldata and blob batches; a fresh `dseq derive` from L1 alone vs a fresh follower over p2p, each from spawn to the last batched block, same head hash";

/** The history the inbox must cover. */
const TARGET_BLOCKS = 1000;
const BLOCK_MS = 1000;
/**
 * Genesis this many slots in the past: the validator makes them back to back, so the history
 * takes seconds of CPU rather than 1,000 s of slots, and reaches the present a little after it.
 */
const HISTORY_SLOTS = 1100;
const LOAD_TPS = 400;
/** Load signed up front; the history usually needs well under a minute of it. */
const LOAD_MS = 90_000;
const LOAD_ACCOUNTS = 64;
const PREPARE_TIMEOUT_MS = 360_000;
const SYNC_TIMEOUT_MS = 180_000;

const log = createLogger({ base: { bench: "derive" }, destination: process.stderr });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
  every: number,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(every);
  }
  throw new Error(
    `timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`,
  );
}

/** The number of transactions in blocks 1..upTo on `url`. */
async function txCount(url: string, upTo: number): Promise<number> {
  let n = 0;
  for (let from = 1; from <= upTo; from += 100) {
    const calls = [];
    for (let h = from; h <= Math.min(upTo, from + 99); h++) {
      calls.push({ method: "eth_getBlockByNumber", params: [`0x${h.toString(16)}`, false] });
    }
    for (const r of await rpcBatch(url, calls, 30_000)) {
      if (r.error) throw new Error(`eth_getBlockByNumber: ${r.error.message}`);
      n += (r.result as { transactions: unknown[] }).transactions.length;
    }
  }
  return n;
}

async function sameHash(what: string, url: string, ref: string, height: number): Promise<void> {
  const [mine, theirs] = await Promise.all([getBlock(url, height), getBlock(ref, height)]);
  if (!mine || !theirs || mine.hash !== theirs.hash) {
    throw new Error(`${what} block ${height} is ${mine?.hash} but the validator's is ${theirs?.hash}`);
  }
}

function inbox(d: Devnet) {
  const client = createPublicClient({ transport: http(d.l1!.directUrl, { timeout: 10_000 }) });
  const address = d.l1!.deployment.batchInbox;
  const abi = BatchInboxArtifact.abi as Abi;
  return {
    /** `lastL2Block`: the last L2 block its batches cover. */
    head: async () =>
      Number((await client.readContract({ address, abi, functionName: "lastL2Block" })) as bigint),
    /** Its batches by data kind (BatchAppended logs). */
    async kinds(): Promise<{ calldata: number; blobs: number }> {
      const logs = await client.getContractEvents({
        address,
        abi,
        eventName: "BatchAppended",
        fromBlock: 0n,
      });
      const blobs = logs.filter(
        (l) => (l.args as { dataKind: number }).dataKind === BatchDataKind.blobs,
      ).length;
      return { calldata: logs.length - blobs, blobs };
    },
  };
}

/** The history: back-to-back transfer blocks until the inbox's batches cover TARGET_BLOCKS. */
async function prepare(d: Devnet): Promise<{ lastBatched: number; seconds: number }> {
  const v1 = d.validators[0]!;
  const batched = inbox(d).head;
  const t0 = performance.now();
  const stopLoad = new AbortController();
  const load = runLoad({
    rpcUrls: [v1.rpcUrl],
    accounts: d.loadAccounts,
    chainId: d.chainId,
    tps: LOAD_TPS,
    durationMs: LOAD_MS,
    drainMs: 0,
    pollMs: 1000,
    signal: stopLoad.signal,
  });
  let said = 0;
  try {
    await until(
      `validator head ${TARGET_BLOCKS}`,
      async () => {
        const head = await blockNumber(v1.rpcUrl);
        if (Date.now() - said > 10_000) {
          said = Date.now();
          log.info("history", { head, batched: await batched() });
        }
        return head >= TARGET_BLOCKS ? true : undefined;
      },
      PREPARE_TIMEOUT_MS,
      500,
    );
  } finally {
    stopLoad.abort();
  }
  const report = await load;
  log.info("load stopped", { sent: report.sent, accepted: report.accepted, rejected: report.rejected });
  const lastBatched = await until(
    `the inbox at block ${TARGET_BLOCKS}`,
    async () => {
      const n = await batched();
      return n >= TARGET_BLOCKS ? n : undefined;
    },
    PREPARE_TIMEOUT_MS,
    500,
  );
  // The validators back to 1 s slots, so they do not compete with the measured process.
  await until(
    "the validator's chain at the present",
    async () => {
      const b = await getBlock(v1.rpcUrl, "latest");
      return b && Number(b.timestamp) * 1000 >= Date.now() - 3 * BLOCK_MS ? true : undefined;
    },
    PREPARE_TIMEOUT_MS,
    500,
  );
  return { lastBatched, seconds: (performance.now() - t0) / 1000 };
}

/** A fresh `dseq derive` from the devnet's chain spec and l1 section; seconds to reach `upTo`. */
async function deriveFromL1(d: Devnet, root: string, upTo: number): Promise<number> {
  const [port] = (await allocatePorts(1)) as [number];
  const url = `http://127.0.0.1:${port}`;
  const configPath = join(root, "verifier.json");
  writeVerifierConfig(d.dataDir, d.chainSpecPath, {
    path: configPath,
    dataDir: join(root, "verifier"),
    port,
  });
  const verifier = new ManagedProcess({
    name: "verifier",
    command: process.execPath,
    args: [DSEQ_BIN, "derive", "--config", configPath, "--beacon", d.l1!.beaconUrl],
    env: process.env,
    logPath: join(root, "verifier.log"),
  });
  const t0 = performance.now();
  verifier.start();
  try {
    await until(
      `the verifier at block ${upTo}`,
      async () => {
        if (verifier.state !== "running") throw new Error("the verifier exited");
        const s = await rpcCall<{ derivedHead: string; halted?: { code: string; message: string } }>(
          url,
          "dseq_syncStatus",
          [],
          2000,
        );
        if (s.halted) throw new Error(`verifier halted: ${s.halted.code} ${s.halted.message}`);
        return BigInt(s.derivedHead) >= BigInt(upTo) ? true : undefined;
      },
      SYNC_TIMEOUT_MS,
      100,
    );
    const seconds = (performance.now() - t0) / 1000;
    await sameHash("the verifier's", url, d.validators[0]!.rpcUrl, upTo);
    return seconds;
  } finally {
    await verifier.stop();
  }
}

/** The devnet's follower, started now with an empty data dir; seconds to reach `upTo` over p2p. */
async function followerCatchUp(d: Devnet, upTo: number): Promise<number> {
  const f1 = d.followers[0]!;
  const t0 = performance.now();
  await f1.start();
  await until(
    `the follower at block ${upTo}`,
    async () => {
      if (f1.state !== "running") throw new Error(`the follower exited:\n${f1.logTail(20)}`);
      return (await blockNumber(f1.rpcUrl, 2000)) >= upTo ? true : undefined;
    },
    SYNC_TIMEOUT_MS,
    100,
  );
  const seconds = (performance.now() - t0) / 1000;
  await sameHash("the follower's", f1.rpcUrl, d.validators[0]!.rpcUrl, upTo);
  return seconds;
}

export default async function run(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "dseq-bench-derive-"));
  let d: Devnet | undefined;
  try {
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 2,
      followers: 1,
      start: ["v1", "v2"],
      blockTimeMs: BLOCK_MS,
      spanLength: 10_000,
      loadAccounts: LOAD_ACCOUNTS,
      genesisTimestamp: Math.floor(Date.now() / 1000) - (HISTORY_SLOTS * BLOCK_MS) / 1000,
      readyTimeoutMs: 120_000,
      control: false,
      l1: {
        blockTimeSeconds: 1,
        confirmations: 1,
        pollIntervalMs: 300,
        rewards: false,
        batches: { kind: "alternate", maxBlocks: 100, maxAgeSeconds: 5, confirmations: 1, pollMs: 300 },
      },
    });
    const { lastBatched, seconds: prepareS } = await prepare(d);
    const txs = await txCount(d.validators[0]!.rpcUrl, lastBatched);
    const kinds = await inbox(d).kinds();
    log.info("history on L1", { lastBatched, txs, prepareS, ...kinds });
    const deriveS = await deriveFromL1(d, root, lastBatched);
    log.info("derived", { deriveS });
    const followS = await followerCatchUp(d, lastBatched);
    log.info("followed", { followS });
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      blocks: lastBatched,
      txs,
      derive_blocks_per_s: r(lastBatched / deriveS),
      derive_tx_per_s: r(txs / deriveS),
      follower_blocks_per_s: r(lastBatched / followS),
      derive_vs_follower_ratio: Math.round((followS / deriveS) * 1000) / 1000,
      calldata_batches: kinds.calldata,
      blob_batches: kinds.blobs,
      prepare_s: r(prepareS),
    };
  } finally {
    await d?.stop();
    if (process.env.DSEQ_BENCH_KEEP) log.info("kept", { root });
    else rmSync(root, { recursive: true, force: true });
  }
}
