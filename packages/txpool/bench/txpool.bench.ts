// `pnpm bench txpool`: admission throughput (decode, checks, native sender recovery, pool
// insert) of signed transfers from 10,000 senders, and iterating 10,000 pending in block order.
import { bytesToHex, utf8ToBytes } from "@dseq/common";
import { createEthereumCrypto, cryptoBackend, keccak256, privateKeyToAddress } from "@dseq/crypto";
import { createCustomCommon, Mainnet } from "@ethereumjs/common";
import { createFeeMarket1559Tx, createTxFromRLP } from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes } from "@ethereumjs/util";
import { type AccountState, type Address, type StateReader, TxPool } from "../src/index.ts";

export const description =
  "txpool admission of 10,000 signed transfers (recovery included) and block-order iteration";

const N = 10_000;
const BATCH = 500;
const RUNS = 5;
const CHAIN_ID = 901n;
const GWEI = 1_000_000_000n;

/** In-memory state backend: every sender funded, nonce 0. */
class BenchState implements StateReader {
  getAccount(_address: Address): AccountState {
    return { nonce: 0n, balance: 10n ** 18n };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

export default async function run(): Promise<Record<string, number>> {
  const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, {
    hardfork: "prague",
    customCrypto: createEthereumCrypto(),
  });
  const raws: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const key = keccak256(utf8ToBytes(`bench sender ${i}`));
    const to = bytesToHex(privateKeyToAddress(keccak256(utf8ToBytes(`bench recipient ${i}`))));
    const tip = BigInt(1 + (i % 97)) * GWEI;
    const tx = createFeeMarket1559Tx(
      {
        nonce: 0n,
        maxPriorityFeePerGas: tip,
        maxFeePerGas: tip + 10n * GWEI,
        gasLimit: 21_000n,
        to,
        value: 1n,
      },
      { common },
    ).sign(key);
    raws.push(tx.serialize());
  }

  const admit: number[] = [];
  const admitCpu: number[] = [];
  const iter: number[] = [];
  const iterCpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const pool = new TxPool({ chainId: CHAIN_ID, globalSlots: 2 * N }, { state: new BenchState() });
    await pool.start({ number: 1n, gasLimit: 30_000_000n, nextBaseFee: GWEI });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const results = await pool.addRemotes(raws.slice(i, i + BATCH));
      for (const res of results) if (!res.ok) throw res.error;
    }
    const t1 = performance.now();
    const cpu = process.cpuUsage(c0);
    admit.push(N / ((t1 - t0) / 1000));
    admitCpu.push(N / ((cpu.user + cpu.system) / 1e6));
    if (pool.status().pending !== N) throw new Error(`expected ${N} pending, got ${pool.status().pending}`);

    const c2 = process.cpuUsage();
    const t2 = performance.now();
    const it = pool.pending();
    let n = 0;
    for (let tx = it.next(); tx; tx = it.next()) n++;
    const t3 = performance.now();
    if (n !== N) throw new Error(`iterated ${n}, expected ${N}`);
    iter.push(t3 - t2);
    const c3 = process.cpuUsage(c2);
    iterCpu.push((c3.user + c3.system) / 1000);
  }
  console.log(
    `crypto backend: ${JSON.stringify(cryptoBackend())}; ${RUNS} runs, batches of ${BATCH}, medians`,
  );
  // Context for a shared machine: the bare native recovery rate of the same signatures now.
  const sample = raws.slice(0, 2000).map((r) => createTxFromRLP(r, { common }));
  const hashes = sample.map((t) => t.getMessageToVerifySignature());
  const ecrecover = common.customCrypto.ecrecover as NonNullable<typeof common.customCrypto.ecrecover>;
  const t4 = performance.now();
  for (let i = 0; i < sample.length; i++) {
    const t = sample[i] as (typeof sample)[number];
    ecrecover(
      hashes[i] as Uint8Array,
      t.v as bigint,
      bigIntToUnpaddedBytes(t.r as bigint),
      bigIntToUnpaddedBytes(t.s as bigint),
    );
  }
  const bare = sample.length / ((performance.now() - t4) / 1000);
  console.log(
    `bare native ecrecover of the same signatures right after: ${bare.toFixed(0)}/s (load indicator)`,
  );
  console.log(`admit_per_s runs: ${admit.map((x) => x.toFixed(0)).join(", ")}`);
  // Per CPU-second of this process: less sensitive to other processes on a shared machine.
  console.log(`admissions per cpu-second runs: ${admitCpu.map((x) => x.toFixed(0)).join(", ")}`);
  console.log(`pending_iter_10k_ms runs: ${iter.map((x) => x.toFixed(2)).join(", ")}`);
  console.log(`pending_iter_10k cpu-ms runs: ${iterCpu.map((x) => x.toFixed(2)).join(", ")}`);
  return { admit_per_s: Math.round(median(admit)), pending_iter_10k_ms: median(iter) };
}
