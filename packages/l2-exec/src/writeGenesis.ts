import type { Logger } from "@dseq/common";
import type { Common, GethGenesis } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { bytesToHex } from "@ethereumjs/util";
import { buildGenesisBlock, buildGenesisState } from "./genesis.ts";
import type { ChainLevel, NodeStore } from "./nodeStore.ts";
import { type BatchOp, blockKey, bloomKey, canonicalKey, headKey, metaKey, receiptsKey } from "./store.ts";

/** What a data dir records of its chain (under `metaKey("genesis")`); reopening must match it. */
export type StoredGenesis = { genesis: GethGenesis; l2Policy: boolean };

/**
 * Writes the genesis state, block and heads of a new data dir in one synced batch; returns the
 * genesis hash.
 */
export async function writeGenesis(
  ctx: { db: ChainLevel; store: NodeStore; log: Logger | undefined },
  stored: StoredGenesis,
  common: Common,
): Promise<Uint8Array> {
  const t0 = performance.now();
  const { stateRoot, nodes } = buildGenesisState(stored.genesis.alloc);
  const genesis = buildGenesisBlock(stored.genesis, common, stateRoot);
  const genesisHash = genesis.hash();
  const ops: BatchOp[] = ctx.store.toBatch(nodes);
  ops.push({ type: "put", key: blockKey(genesisHash), value: genesis.serialize() });
  ops.push({ type: "put", key: canonicalKey(0n), value: genesisHash });
  ops.push({ type: "put", key: receiptsKey(genesisHash), value: RLP.encode([]) });
  ops.push({ type: "put", key: bloomKey(0n), value: genesis.header.logsBloom });
  for (const name of ["latest", "safe", "finalized"] as const)
    ops.push({ type: "put", key: headKey(name), value: genesisHash });
  // The meta key goes last in the same batch: a data dir either has a whole genesis or none.
  ops.push({
    type: "put",
    key: metaKey("genesis"),
    value: new TextEncoder().encode(JSON.stringify(stored)),
  });
  await ctx.db.batch(ops as never, { sync: true });
  ctx.store.persisted(nodes);
  ctx.log?.info("genesis written", {
    hash: bytesToHex(genesisHash),
    stateRoot: bytesToHex(stateRoot),
    accounts: Object.keys(stored.genesis.alloc).length,
    ms: Math.round(performance.now() - t0),
  });
  return genesisHash;
}
