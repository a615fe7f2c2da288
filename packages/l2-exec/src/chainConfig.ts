import { createEthereumCrypto } from "@dseq/crypto";
import { paramsBlock } from "@ethereumjs/block";
import {
  type Common,
  createCommonFromGethGenesis,
  type GethGenesis,
  type ParamsDict,
} from "@ethereumjs/common";
import { paramsEVM } from "@ethereumjs/evm";
import { paramsTx } from "@ethereumjs/tx";
import type { KZG } from "@ethereumjs/util";
import { paramsVM } from "@ethereumjs/vm";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";

export type Hex = `0x${string}`;

export type GenesisAccount = {
  balance?: bigint | string;
  nonce?: bigint | number | string;
  code?: Hex;
  /** 32-byte slot -> value (hex). */
  storage?: Record<string, string>;
};

/**
 * A dseq L2 chain: Ethereum rules at Prague from genesis, no blob transactions. Everything a
 * genesis needs; the genesis hash follows deterministically from it.
 */
export type ChainConfig = {
  chainId: bigint | number;
  /** Block gas limit (constant: an L2 sequencer set does not vote on it). Default 30M. */
  gasLimit?: bigint | number;
  /** Genesis base fee in wei; later blocks follow the EIP-1559 update rule. Default 1 gwei. */
  baseFeePerGas?: bigint | number;
  /** Genesis timestamp in seconds. Default 0. */
  timestamp?: bigint | number;
  extraData?: Hex;
  alloc: Record<string, GenesisAccount>;
};

export const defaultChainConfig = {
  gasLimit: 30_000_000n,
  baseFeePerGas: 1_000_000_000n,
  timestamp: 0n,
  extraData: "0x" as Hex,
} as const;

const hex = (v: bigint | number | string): Hex => {
  if (typeof v === "string") return (v.startsWith("0x") ? v : `0x${BigInt(v).toString(16)}`) as Hex;
  return `0x${BigInt(v).toString(16)}`;
};

/** The dseq chain config as a geth-format genesis, so both kinds of chain share one path. */
export function chainConfigToGethGenesis(cfg: ChainConfig): GethGenesis {
  const alloc: GethGenesis["alloc"] = {};
  for (const [addr, acc] of Object.entries(cfg.alloc)) {
    alloc[addr.toLowerCase()] = {
      balance: hex(acc.balance ?? 0n),
      ...(acc.nonce !== undefined ? { nonce: hex(acc.nonce) } : {}),
      ...(acc.code !== undefined ? { code: acc.code } : {}),
      ...(acc.storage !== undefined ? { storage: acc.storage as Record<Hex, Hex> } : {}),
    } as GethGenesis["alloc"][string];
  }
  return {
    config: {
      chainId: Number(cfg.chainId),
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      mergeNetsplitBlock: 0,
      terminalTotalDifficulty: 0,
      terminalTotalDifficultyPassed: true,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
      },
    } as unknown as GethGenesis["config"],
    nonce: "0x0",
    timestamp: hex(cfg.timestamp ?? defaultChainConfig.timestamp),
    extraData: cfg.extraData ?? defaultChainConfig.extraData,
    gasLimit: hex(cfg.gasLimit ?? defaultChainConfig.gasLimit),
    difficulty: "0x0",
    mixHash: `0x${"00".repeat(32)}`,
    coinbase: `0x${"00".repeat(20)}`,
    baseFeePerGas: hex(cfg.baseFeePerGas ?? defaultChainConfig.baseFeePerGas),
    alloc,
  };
}

/**
 * ethereumjs 10.1.3 rejects blob-schedule entries it already knows under another name
 * (`bpo1`, `bpo2`: "Missing parameter value for target"); the built-in values are the same.
 */
function sanitizeGethGenesis(genesis: GethGenesis): GethGenesis {
  const config = { ...(genesis.config as unknown as Record<string, unknown>) };
  const schedule = config.blobSchedule as Record<string, unknown> | undefined;
  if (schedule !== undefined) {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schedule)) if (!/^bpo\d+$/.test(k)) kept[k] = v;
    config.blobSchedule = kept;
  }
  return { ...genesis, config: config as unknown as GethGenesis["config"] };
}

/**
 * @ethereumjs refuses to even decode a type-3 transaction without a KZG backend, though a
 * block carries only versioned hashes. dseq never verifies blob sidecars (its L2 rejects
 * type-3; imported chains come without sidecars), so this stand-in lets blocks decode and
 * fails loudly if anything tries to verify a blob or call the point-evaluation precompile.
 */
const noKzg = new Proxy({} as KZG, {
  get(_t, prop) {
    return () => {
      throw new L2ExecError(L2ExecErrorCode.ExecutionFailed, `KZG is not available (${String(prop)})`);
    };
  },
});

/** The parameter tables @ethereumjs' constructors merge into their `Common` on every call. */
const BUILTIN_PARAMS: readonly ParamsDict[] = [paramsTx, paramsBlock, paramsEVM, paramsVM];

/**
 * Merges the built-in parameter tables once and makes later merges of the same tables free.
 * Every transaction, header, EVM and VM constructor of @ethereumjs 10.1.3 copies its `Common`
 * and calls `updateParams` with its package's table, which deep-copies the tables (JSON) and
 * rebuilds the parameter cache: about a tenth of a millisecond per transaction, so decoding a
 * 500-transaction proposal spent most of its ~50 ms there. Copies inherit the own property;
 * any other table still goes through the real `updateParams`.
 */
function mergeBuiltinParamsOnce(common: Common): Common {
  for (const p of BUILTIN_PARAMS) common.updateParams(p);
  const merge = Object.getPrototypeOf(common).updateParams as Common["updateParams"];
  Object.defineProperty(common, "updateParams", {
    value(this: Common, params: ParamsDict) {
      if (!BUILTIN_PARAMS.includes(params)) merge.call(this, params);
    },
    writable: true,
    enumerable: true,
  });
  return common;
}

/** `Common` for a geth-format genesis with dseq's hot-path crypto plugged in. */
export function createChainCommon(genesis: GethGenesis, opts: { nobleCrypto?: boolean } = {}): Common {
  try {
    return mergeBuiltinParamsOnce(
      createCommonFromGethGenesis(sanitizeGethGenesis(genesis), {
        chain: "dseq",
        customCrypto: opts.nobleCrypto === true ? { kzg: noKzg } : { ...createEthereumCrypto(), kzg: noKzg },
      }),
    );
  } catch (cause) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "invalid chain config", { cause });
  }
}
