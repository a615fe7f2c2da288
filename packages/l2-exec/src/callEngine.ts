import { type Block, createBlock, createBlockHeaderFromRLP } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { type CallArgs, type CallOptions, type CallResult, call, type StateOverrides } from "./calls.ts";
import { createChainCommon } from "./chainConfig.ts";
import { blockCommon } from "./chainState.ts";
import { type ChainLevel, NodeStore, STATE_PREFIX } from "./nodeStore.ts";
import { openStateView } from "./stateView.ts";
import type { StoredGenesis } from "./writeGenesis.ts";

/**
 * What an engine without the chain's LevelDB reads through (a worker thread asks the thread
 * that owns the database). Both answers are immutable: trie nodes and code are keyed by their
 * hash, and a committed block is never replaced (BFT finality), so the engine caches them.
 */
export type CallEngineSource = {
  /** A state-trie node or contract code by its hash (hex, no 0x), as `NodeStore.get`. */
  readNode(keyHex: string): Promise<Uint8Array | undefined>;
  /** Hash of canonical block `number` (BLOCKHASH). */
  canonicalHash(number: bigint): Promise<Uint8Array | undefined>;
};

/** One call: the block whose post-state it runs on, and how its environment differs. */
export type CallJob = {
  /** RLP of the header of the block whose state the call runs on. */
  header: Uint8Array;
  args: CallArgs;
  overrides?: StateOverrides;
  opts?: CallOptions;
};

export type CallEngine = { call(job: CallJob): Promise<CallResult> };

export type CallEngineOptions = {
  /** The chain's stored genesis (`StoredGenesis` JSON, as `Chain.callSource` hands it out). */
  genesisJson: string;
  /** Trie nodes and code kept by the engine (entries). */
  nodeCacheSize?: number;
};

const DECODED_BLOCKS = 16;

/**
 * `eth_call` on a chain it reaches only through `source`: the EVM side of the RPC worker
 * threads (ADR 0130). The same `call` as `Chain.call`, on a state view whose nodes come from
 * `source` and stay in a bounded, never-stale cache.
 */
export function createCallEngine(opts: CallEngineOptions, source: CallEngineSource): CallEngine {
  const stored = JSON.parse(opts.genesisJson) as StoredGenesis;
  const common = createChainCommon(stored.genesis);
  const commons = new Map<string, Common>();
  // NodeStore asks its db for "s" + hash; that db is the source.
  const db = {
    get: async (key: Uint8Array): Promise<Uint8Array | undefined> => {
      if (key[0] !== STATE_PREFIX) return undefined;
      return source.readNode(Buffer.from(key.subarray(1)).toString("hex"));
    },
  } as unknown as ChainLevel;
  const store = new NodeStore(db, opts.nodeCacheSize ?? 100_000);
  const blocks = new Map<string, Block>();
  const hashes = new Map<bigint, Uint8Array>();

  const blockOf = (raw: Uint8Array): Block => {
    const key = Buffer.from(raw).toString("base64");
    const hit = blocks.get(key);
    if (hit !== undefined) return hit;
    const probe = createBlockHeaderFromRLP(raw, { common });
    const c = blockCommon({ common, commons }, probe.number, probe.timestamp);
    const header = createBlockHeaderFromRLP(raw, { common: c });
    const block = createBlock({ header: header.toJSON() }, { common: c });
    if (blocks.size >= DECODED_BLOCKS) blocks.delete(blocks.keys().next().value as string);
    blocks.set(key, block);
    return block;
  };

  const blockchainFor = (base: Block): EVMMockBlockchainInterface => {
    const bc: EVMMockBlockchainInterface = {
      getBlock: async (n: number) => {
        const number = BigInt(n);
        let hash = number === base.header.number ? base.hash() : hashes.get(number);
        if (hash === undefined) {
          hash = await source.canonicalHash(number);
          if (hash === undefined) throw new Error(`unknown block ${n}`);
          if (hashes.size > 4096) hashes.clear();
          hashes.set(number, hash);
        }
        const h = hash;
        return { hash: () => h };
      },
      putBlock: async () => {},
      shallowCopy: () => bc,
    };
    return bc;
  };

  return {
    async call(job: CallJob): Promise<CallResult> {
      const base = blockOf(job.header);
      const view = openStateView(base.common, store, base.header.stateRoot);
      return call(
        {
          common: base.common,
          stateManager: view.stateManager,
          block: base,
          blockchain: blockchainFor(base),
        },
        job.args,
        job.overrides,
        job.opts,
      );
    },
  };
}
