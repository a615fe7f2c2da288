/**
 * Test harness: a real l2-exec chain and txpool behind the node's RPC adapter, with a tiny
 * block producer (`mine()` builds from the pool, commits, moves the pool and emits
 * `chain.head`, as the node does after a BFT commit). For RPC tests without consensus.
 */
import { bytesToHex, EventBus, hexToBytes } from "@dseq/common";
import { type Chain, createChain } from "@dseq/l2-exec";
import type { RpcBackend, RpcEventMap } from "@dseq/rpc";
import { createTxPool, type TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { GethGenesis } from "@ethereumjs/common";
import { chainReader, txPoolView } from "../../../src/rpcBackend.ts";

export type L2TestBackend = {
  chain: Chain;
  pool: TxPool;
  events: EventBus<RpcEventMap>;
  backend: RpcBackend;
  /** Builds a block from the pool's pending transactions and commits it. */
  mine(): Promise<Block>;
  close(): Promise<void>;
};

function nextBaseFeeOf(block: Block): bigint {
  return block.common.isActivatedEIP(1559) ? block.header.calcNextBaseFee() : 0n;
}

export async function openL2Backend(opts: {
  dataDir: string;
  genesis?: GethGenesis;
  chainConfig?: Parameters<typeof createChain>[0]["chainConfig"];
  /** Mine a block right after each admitted transaction (a dev-chain "automine"). */
  automine?: boolean;
  /** Block time the RPC's next-block context and simulated blocks assume (default 2 s). */
  blockTimeMs?: number;
  /** Runs on the chain before the pool starts (e.g. importing a test chain). */
  prepare?: (chain: Chain) => Promise<void>;
}): Promise<L2TestBackend> {
  const chain = await createChain({
    dataDir: opts.dataDir,
    ...(opts.genesis === undefined ? {} : { genesis: opts.genesis }),
    ...(opts.chainConfig === undefined ? {} : { chainConfig: opts.chainConfig }),
  });
  await opts.prepare?.(chain);
  const events = new EventBus<RpcEventMap>({ name: "rpc-test-events" });
  const pool = createTxPool(
    { chainId: chain.chainId },
    {
      state: {
        getAccount: async (a) => ({ nonce: await chain.getNonce(a), balance: await chain.getBalance(a) }),
      },
    },
  );
  const head = chain.head();
  await pool.start({
    number: head.header.number,
    gasLimit: head.header.gasLimit,
    nextBaseFee: nextBaseFeeOf(head),
  });
  pool.events.on("txpool.added", (e) => {
    if (e.pending) events.emit("txpool.pending", { hashes: [e.hash] });
  });
  let mining: Promise<unknown> = Promise.resolve();
  const mineNow = async (): Promise<Block> => {
    const parent = chain.head();
    const txs = [...pool.pending()].map((p) => p.raw);
    const built = await chain.buildBlock({
      txs,
      timestamp: parent.header.timestamp + 2n,
      coinbase: "0x00000000000000000000000000000000000000c0",
    });
    await chain.commit(built.block, built.receipts, { safe: true, finalized: true });
    await pool.onNewHead({
      number: built.block.header.number,
      gasLimit: built.block.header.gasLimit,
      nextBaseFee: nextBaseFeeOf(built.block),
      includedTxHashes: built.block.transactions.map((t) => bytesToHex(t.hash())),
    });
    events.emit("chain.head", { number: built.block.header.number, hash: bytesToHex(built.block.hash()) });
    return built.block;
  };
  const mine = (): Promise<Block> => {
    const run = mining.then(mineNow, mineNow);
    mining = run.catch(() => undefined);
    return run;
  };
  const backend: RpcBackend = {
    chain: chainReader(chain, opts.blockTimeMs === undefined ? {} : { blockTimeMs: opts.blockTimeMs }),
    txpool: txPoolView(pool),
    events,
    submitRawTransaction: async (raw) => {
      const hash = await pool.addRemote(raw);
      if (opts.automine === true) await mine();
      return hash;
    },
  };
  return {
    chain,
    pool,
    events,
    backend,
    mine,
    close: async () => {
      await mining.catch(() => undefined);
      await pool.stop();
      await chain.close();
    },
  };
}

export { hexToBytes };
