import { bytesToHex, type Clock, concatBytes, type Hex, utf8ToBytes } from "@dseq/common";
import { createEthereumCrypto, keccak256, privateKeyToAddress, secp256k1 } from "@dseq/crypto";
import { type Common, createCustomCommon, Mainnet } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import {
  createAccessList2930Tx,
  createEOACode7702Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
} from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes, eoaCode7702SignAuthorization } from "@ethereumjs/util";
import { type DecodedTx, decodeTransaction, recoverSenders } from "../src/decode.ts";
import type { AccountState, Address, PoolHead, StateReader } from "../src/index.ts";
import {
  checkOptions,
  defaultTxPoolOptions,
  effectiveMaxTxSize,
  type TxPoolOptions,
} from "../src/options.ts";
import { createPoolState, type PoolState } from "../src/poolState.ts";

export const CHAIN_ID = 901n;
export const GWEI = 1_000_000_000n;
export const ETHER = 10n ** 18n;
export const TO: Hex = "0x000000000000000000000000000000000000dead";

export function commonFor(chainId: bigint): Common {
  return createCustomCommon({ chainId: Number(chainId) }, Mainnet, {
    hardfork: "prague",
    customCrypto: createEthereumCrypto(),
  });
}

export const common = commonFor(CHAIN_ID);

export function testKey(i: number): Uint8Array {
  return keccak256(utf8ToBytes(`dseq txpool test key ${i}`));
}

export function addressOf(key: Uint8Array): Address {
  return bytesToHex(privateKeyToAddress(key));
}

export type TxFields = {
  nonce: bigint;
  tip?: bigint;
  fee?: bigint;
  gas?: bigint;
  value?: bigint;
  to?: Hex | "";
  data?: Uint8Array;
  chainId?: bigint;
};

/** A signed EIP-1559 transfer. */
export function tx1559(key: Uint8Array, f: TxFields): Uint8Array {
  const c = f.chainId === undefined ? common : commonFor(f.chainId);
  return createFeeMarket1559Tx(
    {
      nonce: f.nonce,
      maxPriorityFeePerGas: f.tip ?? GWEI,
      maxFeePerGas: f.fee ?? 2n * GWEI,
      gasLimit: f.gas ?? 21_000n,
      to: f.to === "" ? undefined : (f.to ?? TO),
      value: f.value ?? 1n,
      data: f.data,
    },
    { common: c },
  )
    .sign(key)
    .serialize();
}

/** A signed EIP-155 legacy transaction (`fee` is the gas price). */
export function txLegacy(key: Uint8Array, f: TxFields): Uint8Array {
  const c = f.chainId === undefined ? common : commonFor(f.chainId);
  return createLegacyTx(
    {
      nonce: f.nonce,
      gasPrice: f.fee ?? 2n * GWEI,
      gasLimit: f.gas ?? 21_000n,
      to: f.to === "" ? undefined : (f.to ?? TO),
      value: f.value ?? 1n,
      data: f.data,
    },
    { common: c },
  )
    .sign(key)
    .serialize();
}

export function tx2930(key: Uint8Array, f: TxFields): Uint8Array {
  return createAccessList2930Tx(
    {
      nonce: f.nonce,
      gasPrice: f.fee ?? 2n * GWEI,
      gasLimit: f.gas ?? 30_000n,
      to: f.to ?? TO,
      value: f.value ?? 1n,
      accessList: [{ address: TO, storageKeys: [] }],
    },
    { common },
  )
    .sign(key)
    .serialize();
}

/** A signed EIP-7702 transaction with one authorization by `authKey`. */
export function tx7702(key: Uint8Array, authKey: Uint8Array, f: TxFields): Uint8Array {
  const auth = eoaCode7702SignAuthorization(
    { chainId: bytesToHex(bigIntToUnpaddedBytes(CHAIN_ID)), address: TO, nonce: "0x" },
    authKey,
  );
  return createEOACode7702Tx(
    {
      nonce: f.nonce,
      maxPriorityFeePerGas: f.tip ?? GWEI,
      maxFeePerGas: f.fee ?? 2n * GWEI,
      gasLimit: f.gas ?? 100_000n,
      to: f.to ?? TO,
      value: f.value ?? 0n,
      authorizationList: [auth],
    },
    { common },
  )
    .sign(key)
    .serialize();
}

/**
 * Signs arbitrary typed-transaction fields by hand, for encodings @ethereumjs refuses to build
 * (empty authorization list, blob type, ...). `fields` excludes the signature.
 */
export function signTypedRaw(key: Uint8Array, type: number, fields: (Uint8Array | unknown[])[]): Uint8Array {
  const msg = keccak256(concatBytes(new Uint8Array([type]), RLP.encode(fields as never)));
  const { signature, recovery } = secp256k1.sign(msg, key);
  const body = [
    ...fields,
    bigIntToUnpaddedBytes(BigInt(recovery)),
    strip(signature.slice(0, 32)),
    strip(signature.slice(32)),
  ];
  return concatBytes(new Uint8Array([type]), RLP.encode(body as never));
}

function strip(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.slice(i);
}

export const u = (n: bigint): Uint8Array => bigIntToUnpaddedBytes(n);

/**
 * In-memory account state: the state backend the pool reads in tests (the node uses
 * l2-exec's state). Unknown accounts read as nonce 0, balance 0.
 */
export class TestState implements StateReader {
  readonly accounts = new Map<Address, AccountState>();
  readonly async: boolean;
  reads = 0;

  constructor(opts: { async?: boolean } = {}) {
    this.async = opts.async ?? false;
  }

  set(address: Address, st: Partial<AccountState>): void {
    const cur = this.accounts.get(address) ?? { nonce: 0n, balance: 0n };
    this.accounts.set(address, { ...cur, ...st });
  }

  fund(address: Address, balance = ETHER): void {
    this.set(address, { balance });
  }

  getAccount(address: Address): AccountState | Promise<AccountState> {
    this.reads++;
    const st = this.accounts.get(address) ?? { nonce: 0n, balance: 0n };
    const copy: AccountState = { nonce: st.nonce, balance: st.balance };
    if (st.hasCode) copy.hasCode = true;
    return this.async ? Promise.resolve(copy) : copy;
  }
}

export function head(over: Partial<PoolHead> = {}): PoolHead {
  return { number: 1n, gasLimit: 30_000_000n, nextBaseFee: GWEI / 2n, ...over };
}

export function hashes(list: readonly { hash: Hex }[]): Hex[] {
  return list.map((t) => t.hash);
}

/**
 * A pool's state as the `TxPool` constructor builds it, head set: for tests that drive one
 * operation (`insertTx`, `makeRoom`, `applyNewHead`, ...) directly.
 */
export function testPoolState(
  opts: Partial<TxPoolOptions> = {},
  modules: { state?: StateReader; clock?: Clock } = {},
): { pool: PoolState; state: TestState } {
  const state = new TestState();
  const full = { ...defaultTxPoolOptions, chainId: CHAIN_ID, ...opts };
  checkOptions(full);
  const pool = createPoolState(full, {
    state: modules.state ?? state,
    ...(modules.clock ? { clock: modules.clock } : {}),
  });
  pool.head = head();
  pool.eviction.rebuild(pool.accounts.values(), pool.head.nextBaseFee);
  return { pool, state };
}

/** Decodes and recovers one transaction as admission does before `insertTx`. */
export function decodeFor(pool: PoolState, raw: Uint8Array): { d: DecodedTx; from: Address } {
  const d = decodeTransaction(raw, {
    common: pool.common,
    chainId: pool.opts.chainId,
    maxTxSize: effectiveMaxTxSize(pool.opts),
    minTip: pool.opts.minTip,
    allowUnprotectedTxs: pool.opts.allowUnprotectedTxs,
    blockGasLimit: (pool.head ?? head()).gasLimit,
  });
  const [from] = recoverSenders([d]);
  if (typeof from !== "string") throw new Error("test transaction has no valid sender");
  return { d, from };
}
