import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Clock, Logger, Metrics } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { createTxPool, type TxPool } from "@dseq/txpool";
import type { ChainSpec } from "../chainSpec.ts";
import type { NodeConfig } from "../config.ts";
import type { Started } from "./started.ts";

/** keccak256 of empty code: an account without code has this code hash. */
const KECCAK256_EMPTY = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

/** 3. The txpool on the head's state, with its journal in `<dataDir>/txpool` when configured. */
export async function initPool(
  config: NodeConfig,
  spec: ChainSpec,
  chain: Chain,
  maxBlockBytes: number,
  m: { logger: Logger; metrics: Metrics; clock: Clock },
): Promise<Started<TxPool>> {
  const journalDir = join(config.dataDir, "txpool");
  const pool = createTxPool(
    {
      chainId: BigInt(spec.chainId),
      accountSlots: config.txpool.accountSlots,
      globalSlots: config.txpool.globalSlots,
      lifetimeMs: config.txpool.queuedLifetimeSec * 1000,
      minTip: BigInt(config.txpool.minTipWei),
      maxBlockBytes,
      ...(config.txpool.journal ? { journalPath: join(journalDir, "journal.rlp") } : {}),
    },
    {
      state: {
        getAccount: async (a) => {
          const acc = await chain.getAccount(a, "latest");
          return {
            nonce: acc?.nonce ?? 0n,
            balance: acc?.balance ?? 0n,
            // EIP-7702: a delegated (or contract) sender gets one transaction in flight.
            hasCode: acc !== undefined && acc.codeHash !== KECCAK256_EMPTY,
          };
        },
      },
      logger: m.logger,
      metrics: m.metrics,
      clock: m.clock,
    },
  );
  if (config.txpool.journal) mkdirSync(journalDir, { recursive: true });
  const head = chain.head();
  await pool.start({
    number: head.header.number,
    gasLimit: head.header.gasLimit,
    nextBaseFee: head.header.calcNextBaseFee(),
  });
  return { module: pool, stop: () => pool.stop() };
}
