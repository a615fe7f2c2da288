import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { vectorsPath } from "@dseq/common/vectors";
import { createBlock } from "@ethereumjs/block";
import { MerkleStateManager } from "@ethereumjs/statemanager";
import { createTxFromRLP } from "@ethereumjs/tx";
import { Account, createAddressFromString, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import { createVM } from "@ethereumjs/vm";
import { describe, expect, it } from "vitest";
import { createChainCommon, createTracer, traceTx } from "../src/index.ts";

/**
 * go-ethereum's own tracer fixtures (eth/tracers/internal/tracetest/testdata), replayed the way
 * calltrace_test.go does: state from `genesis.alloc`, a block from `context`, the signed `input`
 * applied once with the tracer attached, the JSON compared with `result` in full.
 */
const root = vectorsPath("geth-tracers");

type Fixture = {
  genesis: {
    config: Record<string, unknown>;
    alloc: Record<
      string,
      { balance?: string; nonce?: string; code?: string; storage?: Record<string, string> }
    >;
    mixHash?: string;
    [k: string]: unknown;
  };
  context: Record<string, string>;
  input: string;
  tracerConfig?: Record<string, unknown>;
  result: unknown;
};

const num = (v: string | undefined): bigint => (v === undefined ? 0n : BigInt(v));

export async function replayFixture(
  f: Fixture,
  tracerName: string,
): Promise<{ result: unknown; gasUsed: bigint }> {
  // Clique needs a signer to answer COINBASE; the fixtures' block context names the miner.
  // geth reads config keys case-insensitively ("IstanbulBlock").
  const lowered = Object.fromEntries(
    Object.entries(f.genesis.config).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]),
  );
  // ethereumjs activates whole hardforks in order: a fork already active at the fixture's block
  // moves to 0 (same rules at that block), and EIP-155 joins EIP-158 (Spurious Dragon) when only
  // 158 is active there (big_slow: an unprotected tx stays valid under EIP-155).
  const at = num(f.context.number);
  const time = num(f.context.timestamp);
  for (const [k, v] of Object.entries(lowered)) {
    if (typeof v !== "number") continue;
    if (k.endsWith("Block") && BigInt(v) <= at) lowered[k] = 0;
    if (k.endsWith("Time") && BigInt(v) <= time) lowered[k] = 0;
  }
  if (lowered.eip158Block === 0) lowered.eip155Block = 0;
  const { clique: _clique, ...config } = lowered;
  if (_clique !== undefined) config.ethash = {};
  const common = createChainCommon({ ...f.genesis, config, alloc: {} } as never);
  const ctx = f.context;
  common.setHardforkBy({ blockNumber: num(ctx.number), timestamp: num(ctx.timestamp) });
  const stateManager = new MerkleStateManager({ common });
  for (const [addr, a] of Object.entries(f.genesis.alloc)) {
    const address = createAddressFromString(addr);
    await stateManager.putAccount(address, new Account(num(a.nonce), num(a.balance)));
    if (a.code !== undefined && a.code !== "0x")
      await stateManager.putCode(address, hexToBytes(a.code as `0x${string}`));
    for (const [k, v] of Object.entries(a.storage ?? {}))
      await stateManager.putStorage(
        address,
        setLengthLeft(hexToBytes(k as `0x${string}`), 32),
        hexToBytes(v as `0x${string}`),
      );
  }
  const ttd = f.genesis.config.terminalTotalDifficulty;
  const header: Record<string, unknown> = {
    number: num(ctx.number),
    difficulty: num(ctx.difficulty),
    timestamp: num(ctx.timestamp),
    gasLimit: num(ctx.gasLimit),
    coinbase: ctx.miner,
  };
  if (common.isActivatedEIP(1559)) header.baseFeePerGas = num(ctx.baseFeePerGas);
  if (ttd !== undefined && BigInt(ttd as number) === 0n && f.genesis.mixHash !== undefined)
    header.mixHash = f.genesis.mixHash;
  if (common.isActivatedEIP(4844)) header.excessBlobGas = num(f.genesis.excessBlobGas as string | undefined);
  const block = createBlock({ header }, { common, skipConsensusFormatValidation: true });
  const vm = await createVM({ common, stateManager });
  const input = (f.input.startsWith("0x") ? f.input : `0x${f.input}`) as `0x${string}`;
  const tx = createTxFromRLP(hexToBytes(input), { common });
  const tracer = createTracer({
    tracer: tracerName,
    ...(f.tracerConfig ? { tracerConfig: f.tracerConfig } : {}),
  });
  const out = await traceTx(vm, block, tx, tracer, { asCall: false });
  return { result: out.result, gasUsed: out.run.totalGasSpent };
}

const SUITES: [dir: string, tracer: string][] = [
  ["call_tracer", "callTracer"],
  ["call_tracer_withLog", "callTracer"],
  ["call_tracer_flat", "flatCallTracer"],
  ["prestate_tracer", "prestateTracer"],
  ["prestate_tracer_with_diff_mode", "prestateTracer"],
];

/** Lower-cases addresses and hex so that checksummed fixture fields compare by value. */
function normalize(v: unknown): unknown {
  if (typeof v === "string") return /^0x[0-9a-fA-F]*$/.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [/^0x/.test(k) ? k.toLowerCase() : k, normalize(x)]),
    );
  return v;
}

describe.skipIf(!root)("[vectors] geth tracer fixtures", () => {
  for (const [dir, tracer] of SUITES) {
    it(`${dir}: every fixture's ${tracer} output equals geth's`, { timeout: 120_000 }, async () => {
      const files = readdirSync(join(root as string, dir)).filter((f) => f.endsWith(".json"));
      const failures: string[] = [];
      for (const file of files) {
        const f = JSON.parse(readFileSync(join(root as string, dir, file), "utf8")) as Fixture;
        try {
          const { result } = await replayFixture(f, tracer);
          let have = normalize(JSON.parse(JSON.stringify(result)));
          let want = normalize(f.result);
          // Older fixtures omit a log's `index`; geth's test reads it as 0.
          if (tracer === "callTracer") want = fillLogIndex(want);
          if (tracer === "flatCallTracer") {
            have = flatAsGethTest(have);
            want = flatAsGethTest(want);
          }
          if (JSON.stringify(sortKeys(have)) !== JSON.stringify(sortKeys(want))) {
            const h = JSON.stringify(sortKeys(have));
            const w = JSON.stringify(sortKeys(want));
            let i = 0;
            while (i < h.length && h[i] === w[i]) i++;
            failures.push(
              `${file}: differs at ${i}\n have …${h.slice(Math.max(0, i - 300), i + 200)}\n want …${w.slice(Math.max(0, i - 300), i + 200)}`,
            );
          }
        } catch (err) {
          failures.push(`${file}: threw ${(err as Error).stack}`);
        }
      }
      // The full have/want of each mismatch is the assertion message.
      expect(failures, `${dir}: ${files.length - failures.length}/${files.length} pass`).toEqual([]);
    });
  }
});

/**
 * geth's flat_calltrace_test compares through a struct that drops the block and transaction
 * fields and reads absent fields as zero values; do the same.
 */
function flatAsGethTest(v: unknown): unknown {
  const zero = (x: unknown) =>
    x === undefined || x === null || x === 0 || x === "" || (typeof x === "string" && /^0x0*$/.test(x));
  const strip = (o: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, x]) => !zero(x)));
  return (v as Record<string, unknown>[]).map((f) => ({
    action: strip(f.action as Record<string, unknown>),
    error: f.error ?? "",
    result: strip(f.result as Record<string, unknown> | undefined),
    subtraces: f.subtraces,
    traceAddress: f.traceAddress,
    type: f.type,
  }));
}

function fillLogIndex(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fillLogIndex);
  if (v === null || typeof v !== "object") return v;
  const o = { ...(v as Record<string, unknown>) };
  if (Array.isArray(o.logs)) o.logs = o.logs.map((l: Record<string, unknown>) => ({ index: "0x0", ...l }));
  if (Array.isArray(o.calls)) o.calls = o.calls.map(fillLogIndex);
  return o;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}
