import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createLogger } from "@dseq/common";
import { createBlock } from "@ethereumjs/block";
import { createTxFromRLP, type TypedTransaction } from "@ethereumjs/tx";
import { createVM, runTx } from "@ethereumjs/vm";
import { createChain } from "../src/index.ts";
import type { NodeStore } from "../src/nodeStore.ts";
import { openStateView } from "../src/stateView.ts";
import {
  fillerAddress,
  type TestAccount,
  TOKEN,
  testAccounts,
  testChainConfig,
  transferCalldata,
  transferTx,
} from "../test/fixtures.ts";

export const description =
  "EVM execution: raw runTx limit vs buildBlock+commit of 1,000-tx blocks on a 100,000-account genesis (LevelDB), durable (fsynced) and unsynced commits interleaved, sender recovery native vs noble";

const ACCOUNTS = 100_000;
const PER_BLOCK = 1_000;
const BLOCKS = 11;
const SMALL_BLOCK = 10;
const SMALL_PAIRS = 25;

// A full GC before each measured section, so no section pays for the previous one's garbage.
setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export default async function run(): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), "l2exec-bench-"));
  try {
    const senders = testAccounts(PER_BLOCK, "bench");
    const config = testChainConfig({ senders, fillers: ACCOUNTS - PER_BLOCK, gasLimit: 200_000_000n });
    const t0 = performance.now();
    const chain = await createChain({
      dataDir,
      chainConfig: config,
      logger: createLogger({ level: "warn" }),
    });
    console.log(`genesis with ${ACCOUNTS} accounts: ${Math.round(performance.now() - t0)} ms`);
    const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
    const common = chain.head().common;

    let nonce = 0n;
    const makeTransfers = (blockIdx: number): Uint8Array[] =>
      senders.map((s, i) =>
        transferTx(
          common,
          s,
          nonce,
          fillerAddress((blockIdx * PER_BLOCK + i * 7) % (ACCOUNTS - PER_BLOCK)),
          1n,
        ).serialize(),
      );
    const makeErc20 = (blockIdx: number): Uint8Array[] =>
      senders.map((s: TestAccount, i) =>
        transferTx(common, s, nonce, TOKEN, 0n, {
          gasLimit: 80_000n,
          data: transferCalldata(fillerAddress((blockIdx * PER_BLOCK + i * 13) % (ACCOUNTS - PER_BLOCK)), 1n),
        }).serialize(),
      );
    // The txpool hands blocks transactions it has already decoded and recovered at admission.
    const admitted = (raw: Uint8Array[]): TypedTransaction[] =>
      raw.map((b) => {
        const tx = chain.decodeTx(b);
        tx.getSenderAddress();
        return tx;
      });

    // 1. sender recovery (signature check + address) of freshly decoded txs, native
    //    (libsecp256k1 through customCrypto) and noble; median over rounds (shared machine)
    const recoveryRate = (txs: TypedTransaction[]) => {
      const t = performance.now();
      for (const tx of txs) tx.getSenderAddress();
      return txs.length / ((performance.now() - t) / 1000);
    };
    const rawForRecovery = makeTransfers(99);
    const nativeRates: number[] = [];
    for (let r = 0; r < 5; r++) nativeRates.push(recoveryRate(rawForRecovery.map((b) => chain.decodeTx(b))));
    const senderRecoveryPerS = median(nativeRates);
    const nobleCommon = common.copy();
    (nobleCommon as unknown as { customCrypto: unknown }).customCrypto = {};
    const nobleRates: number[] = [];
    for (let r = 0; r < 3; r++) {
      nobleRates.push(
        recoveryRate(
          rawForRecovery
            .slice(r * 100, r * 100 + 100)
            .map((b) => createTxFromRLP(b, { common: nobleCommon })),
        ),
      );
    }
    const nobleRecoveryPerS = median(nobleRates);

    // 2. the limit: raw runTx on the same pre-recovered txs, on the same parent state, in one
    //    block checkpoint, no state root, nothing written; measured right before each build so
    //    both see the same machine load (the machine is shared).
    let rawCpu = 0;
    // the chain's own node store (and its cache), as buildBlock uses it
    const store = (chain as unknown as { state: { store: NodeStore } }).state.store;
    const rawRun = async (txs: TypedTransaction[]): Promise<number> => {
      const parent = chain.head();
      const { stateManager } = openStateView(common, store, parent.header.stateRoot);
      const vm = await createVM({ common, stateManager });
      const block = createBlock(
        {
          header: {
            number: parent.header.number + 1n,
            timestamp: parent.header.timestamp + 2n,
            gasLimit: parent.header.gasLimit,
            baseFeePerGas: parent.header.calcNextBaseFee(),
            coinbase,
          },
        },
        { common },
      );
      await vm.evm.journal.checkpoint();
      gc();
      const start = performance.now();
      const c = process.cpuUsage();
      let gas = 0n;
      for (const tx of txs) {
        gas += (await runTx(vm, { tx, block, blockGasUsed: gas, skipHardForkValidation: true }))
          .totalGasSpent;
      }
      const cu = process.cpuUsage(c);
      rawCpu = (cu.user + cu.system) / 1000;
      return performance.now() - start;
    };

    // syncWrites is fixed at createChain; the bench flips it between blocks of one chain so
    // that durable and unsynced commits are measured in the same run, interleaved, on the
    // same state size and machine load.
    const setSync = (on: boolean) => {
      (chain as unknown as { state: { syncWrites: boolean } }).state.syncWrites = on;
    };

    // 3. buildBlock + commit, transfers (durable and unsynced blocks alternating) then ERC-20
    //    transfers (durable, the default)
    const rawMs: number[] = [];
    const commitMs = { sync: [] as number[], nosync: [] as number[] };
    const cycle = async (
      make: (i: number) => Uint8Array[],
      label: string,
      opts: { raw: boolean; interleave: boolean },
    ) => {
      const ms = { sync: [] as number[], nosync: [] as number[] };
      for (let b = 0; b < (opts.interleave ? 2 * BLOCKS : BLOCKS); b++) {
        const sync = !opts.interleave || b % 2 === 0;
        setSync(sync);
        const bytes = make(b);
        // before every block, durable or not: the raw run also warms the node cache for the
        // build that follows, so both kinds must get it for a fair comparison
        const raw = opts.raw;
        if (raw) rawMs.push(await rawRun(admitted(bytes)));
        const txs = admitted(bytes);
        gc();
        const start = performance.now();
        const built = await chain.buildBlock({
          txs,
          timestamp: chain.head().header.timestamp + 2n,
          coinbase,
        });
        const c0 = performance.now();
        await chain.commit(built.block, built.receipts);
        const end = performance.now();
        if (built.block.transactions.length !== PER_BLOCK)
          throw new Error(`${label}: ${built.skipped[0]?.reason} ${built.skipped[0]?.message}`);
        nonce++;
        (sync ? ms.sync : ms.nosync).push(end - start);
        if (opts.interleave) (sync ? commitMs.sync : commitMs.nosync).push(end - c0);
        const tm = built.timings;
        console.log(
          `${label} block ${b}${sync ? "" : " (nosync)"}: ${Math.round(end - start)} ms (recover ${tm.recoverMs.toFixed(0)}, execute ${tm.executeMs.toFixed(0)}, state root ${tm.stateRootMs.toFixed(0)}, tries ${tm.triesMs.toFixed(0)}, commit ${(end - c0).toFixed(0)}; cpu: execute ${tm.cpu.executeMs.toFixed(0)}, state root ${tm.cpu.stateRootMs.toFixed(0)}, tries ${tm.cpu.triesMs.toFixed(0)})${raw ? `; raw runTx ${Math.round(rawMs.at(-1) as number)} ms, cpu ${Math.round(rawCpu)}` : ""}`,
        );
      }
      return ms;
    };
    const transfer = await cycle(makeTransfers, "transfer", { raw: true, interleave: true });
    const erc20 = await cycle(makeErc20, "erc20", { raw: false, interleave: false });

    // 4. the fsync alone: commit of small blocks (10 transfers), durable and unsynced alternating
    const smallCommit = { sync: [] as number[], nosync: [] as number[] };
    for (let b = 0; b < 2 * SMALL_PAIRS; b++) {
      const sync = b % 2 === 0;
      setSync(sync);
      const txs = admitted(
        senders
          .slice(0, SMALL_BLOCK)
          .map((s, i) => transferTx(common, s, nonce + BigInt(b), fillerAddress(i + b), 1n).serialize()),
      );
      const built = await chain.buildBlock({ txs, timestamp: chain.head().header.timestamp + 2n, coinbase });
      if (built.block.transactions.length !== SMALL_BLOCK)
        throw new Error(`small: ${built.skipped[0]?.message}`);
      gc();
      const start = performance.now();
      await chain.commit(built.block, built.receipts);
      (sync ? smallCommit.sync : smallCommit.nosync).push(performance.now() - start);
    }
    console.log(
      `small-block commits, ms: sync ${smallCommit.sync.map((x) => x.toFixed(1)).join(" ")}; nosync ${smallCommit.nosync.map((x) => x.toFixed(1)).join(" ")}`,
    );
    setSync(true);
    await chain.close();

    const raw = PER_BLOCK / (median(rawMs) / 1000);
    const transferTps = PER_BLOCK / (median(transfer.sync) / 1000);
    return {
      raw_transfer_tps: Math.round(raw),
      build_commit_transfer_tps: Math.round(transferTps),
      build_commit_transfer_tps_nosync: Math.round(PER_BLOCK / (median(transfer.nosync) / 1000)),
      build_commit_erc20_tps: Math.round(PER_BLOCK / (median(erc20.sync) / 1000)),
      build_commit_1000_transfers_ms: Math.round(median(transfer.sync)),
      commit_1000_transfers_ms_sync: Number(median(commitMs.sync).toFixed(1)),
      commit_1000_transfers_ms_nosync: Number(median(commitMs.nosync).toFixed(1)),
      commit_ms_sync: Number(median(smallCommit.sync).toFixed(2)),
      commit_ms_nosync: Number(median(smallCommit.nosync).toFixed(2)),
      sender_recovery_per_s: Math.round(senderRecoveryPerS),
      noble_sender_recovery_per_s: Math.round(nobleRecoveryPerS),
      ratio_build_commit_to_raw: transferTps / raw,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
