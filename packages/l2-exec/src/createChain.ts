import { logCryptoBackend } from "@dseq/crypto";
import { type Block, createBlockFromRLP } from "@ethereumjs/block";
import { bytesToHex } from "@ethereumjs/util";
import { Level } from "level";
import { Chain } from "./chain.ts";
import { chainConfigToGethGenesis, createChainCommon } from "./chainConfig.ts";
import { type CreateChainOptions, defaultCreateChainOptions } from "./chainOptions.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { type ChainLevel, NodeStore } from "./nodeStore.ts";
import { blockKey, canonicalKey, type HeadName, headKey, metaKey } from "./store.ts";
import { type StoredGenesis, writeGenesis } from "./writeGenesis.ts";

/**
 * Opens the chain in `dataDir`, creating it from `chainConfig` (a dseq L2) or `genesis` (a
 * geth-format genesis) when the directory is new. Reopening continues from the stored head;
 * a different genesis than the stored one is refused.
 */
export async function createChain(opts: CreateChainOptions): Promise<Chain> {
  const log = opts.logger?.child({ module: "l2-exec" });
  if (log !== undefined) logCryptoBackend(log);
  if (opts.chainConfig !== undefined && opts.genesis !== undefined) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "pass either chainConfig or genesis, not both");
  }
  const maxBlockBytes = opts.maxBlockBytes ?? defaultCreateChainOptions.maxBlockBytes;
  if (!Number.isSafeInteger(maxBlockBytes) || maxBlockBytes < 1) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "maxBlockBytes must be a positive integer", {
      details: { maxBlockBytes },
    });
  }
  const db: ChainLevel = new Level<Uint8Array, Uint8Array>(opts.dataDir, {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  try {
    const store = new NodeStore(db, opts.stateCacheSize ?? defaultCreateChainOptions.stateCacheSize);
    const storedRaw = await db.get(metaKey("genesis"));
    let wanted: StoredGenesis | undefined;
    if (opts.chainConfig !== undefined)
      wanted = { genesis: chainConfigToGethGenesis(opts.chainConfig), l2Policy: true };
    else if (opts.genesis !== undefined) wanted = { genesis: opts.genesis, l2Policy: false };
    let stored: StoredGenesis;
    if (storedRaw === undefined) {
      if (wanted === undefined)
        throw new L2ExecError(
          L2ExecErrorCode.InvalidConfig,
          "new data dir: chainConfig or genesis is required",
        );
      stored = wanted;
    } else {
      stored = JSON.parse(new TextDecoder().decode(storedRaw)) as StoredGenesis;
      if (wanted !== undefined && JSON.stringify(wanted) !== JSON.stringify(stored)) {
        throw new L2ExecError(L2ExecErrorCode.GenesisMismatch, "data dir holds a different chain", {
          details: { dataDir: opts.dataDir },
        });
      }
    }
    const common = createChainCommon(stored.genesis, { nobleCrypto: opts.nobleCrypto === true });
    const genesisHash =
      storedRaw === undefined
        ? await writeGenesis({ db, store, log }, stored, common)
        : ((await db.get(canonicalKey(0n))) as Uint8Array);
    const load = async (name: HeadName): Promise<Block> => {
      const hash = await db.get(headKey(name));
      const raw = hash === undefined ? undefined : await db.get(blockKey(hash));
      if (raw === undefined) throw new L2ExecError(L2ExecErrorCode.StateUnavailable, `missing ${name} head`);
      return createBlockFromRLP(raw, { common, setHardfork: true });
    };
    const heads = {
      latest: await load("latest"),
      safe: await load("safe"),
      finalized: await load("finalized"),
    };
    const chain = new Chain({
      common,
      db,
      store,
      genesisHash,
      heads,
      l2Policy: stored.l2Policy,
      ...(log ? { logger: log } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      syncWrites: opts.syncWrites ?? defaultCreateChainOptions.syncWrites,
      maxBlockBytes,
    });
    log?.info("chain opened", {
      chainId: common.chainId().toString(),
      genesis: bytesToHex(genesisHash),
      head: heads.latest.header.number.toString(),
      stateRoot: bytesToHex(heads.latest.header.stateRoot),
    });
    return chain;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Alias of `createChain` for callers that open an existing data dir. */
export const openChain = createChain;
