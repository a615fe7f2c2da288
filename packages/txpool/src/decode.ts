import { bytesToBigint, bytesToHex, concatBytes, type Hex } from "@dseq/common";
import { keccak256, publicKeyToAddress, secp256k1 } from "@dseq/crypto";
import type { Common } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import {
  create1559FeeMarketTxFromBytesArray,
  createAccessList2930TxFromBytesArray,
  createEOACode7702TxFromBytesArray,
  createLegacyTxFromBytesArray,
  type EOACode7702Tx,
  getCalldataFloorGas,
  type TypedTransaction,
} from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes } from "@ethereumjs/util";
import { TxPoolErrorCode as E, TxPoolError } from "./errors.ts";
import type { Address } from "./types.ts";

/** The stateless rules admission applies (everything but nonce, balance and pool limits). */
export type DecodeContext = {
  common: Common;
  chainId: bigint;
  /** Largest encoded transaction accepted (the pool passes `effectiveMaxTxSize`). */
  maxTxSize: number;
  minTip: bigint;
  allowUnprotectedTxs: boolean;
  /** Gas limit of the next block. */
  blockGasLimit: bigint;
};

/** A decoded, statelessly valid transaction whose sender is not recovered yet. */
export type DecodedTx = {
  hash: Hex;
  raw: Uint8Array;
  tx: TypedTransaction;
  type: number;
  nonce: bigint;
  gasLimit: bigint;
  feeCap: bigint;
  tipCap: bigint;
  value: bigint;
  cost: bigint;
  /** EIP-7702 authorities, filled by `recoverSenders`. */
  authorities: Address[];
  /** What the sender signed, and the signature: recovered in bulk by `recoverSenders`. */
  sigHash: Uint8Array;
  r: Uint8Array;
  s: Uint8Array;
  recovery: bigint;
};

const MAX_INITCODE_SIZE = 49_152; // EIP-3860
const MAX_UINT64 = (1n << 64n) - 1n;
const INVALID_SIG = "invalid transaction v, r, s values";

/** Field positions in the RLP list of each accepted type. */
const LAYOUT = {
  0: { len: 9, nonce: 0, tip: 1, fee: 1, gas: 2, to: 3, value: 4, data: 5, auth: -1 },
  1: { len: 11, nonce: 1, tip: 2, fee: 2, gas: 3, to: 4, value: 5, data: 6, auth: -1 },
  2: { len: 12, nonce: 1, tip: 2, fee: 3, gas: 4, to: 5, value: 6, data: 7, auth: -1 },
  4: { len: 13, nonce: 1, tip: 2, fee: 3, gas: 4, to: 5, value: 6, data: 7, auth: 9 },
} as const;

type Layout = (typeof LAYOUT)[keyof typeof LAYOUT];

/** The transaction hash, as every Ethereum client computes it: keccak of the canonical bytes. */
export function transactionHash(raw: Uint8Array): Hex {
  return bytesToHex(keccak256(raw));
}

function scalar(values: unknown[], i: number): Uint8Array {
  const v = values[i];
  if (!(v instanceof Uint8Array))
    throw new TxPoolError(E.InvalidEncoding, `field ${i} must be a byte string`);
  return v;
}

/**
 * Decodes one raw transaction and applies every rule that needs neither state nor signature
 * recovery, cheapest first (so garbage costs little). Throws `TxPoolError`.
 */
export function decodeTransaction(
  raw: Uint8Array,
  ctx: DecodeContext,
  hash = transactionHash(raw),
): DecodedTx {
  if (raw.length === 0) throw new TxPoolError(E.InvalidEncoding, "empty input");
  const first = raw[0] as number;
  if (first >= 0x80 && first < 0xc0)
    throw new TxPoolError(E.InvalidEncoding, "expected a list or a typed transaction");
  const type = first >= 0xc0 ? 0 : first;
  if (type !== 0 && type !== 1 && type !== 2 && type !== 4) {
    throw new TxPoolError(E.TxTypeNotSupported, `tx type ${type} not supported by this pool`);
  }
  if (raw.length > ctx.maxTxSize) {
    throw new TxPoolError(E.OversizedData, `transaction size ${raw.length}, limit ${ctx.maxTxSize}`);
  }
  let values: unknown;
  try {
    values = RLP.decode(type === 0 ? raw : raw.subarray(1));
  } catch (err) {
    throw new TxPoolError(E.InvalidEncoding, (err as Error).message, { cause: err });
  }
  const layout: Layout = LAYOUT[type];
  if (!Array.isArray(values) || values.length !== layout.len) {
    throw new TxPoolError(E.InvalidEncoding, `expected ${layout.len} fields for a type ${type} transaction`);
  }

  checkChainId(values, type, ctx);

  const to = scalar(values, layout.to);
  const data = scalar(values, layout.data);
  if (to.length === 0) {
    if (type === 4) throw new TxPoolError(E.SetCodeCreate);
    if (data.length > MAX_INITCODE_SIZE) {
      throw new TxPoolError(E.MaxInitCodeSize, `code size ${data.length}, limit ${MAX_INITCODE_SIZE}`);
    }
  }
  const gasLimit = bytesToBigint(scalar(values, layout.gas));
  if (gasLimit > ctx.blockGasLimit) throw new TxPoolError(E.GasLimit);
  const tipCap = bytesToBigint(scalar(values, layout.tip));
  const feeCap = bytesToBigint(scalar(values, layout.fee));
  if (tipCap > feeCap) throw new TxPoolError(E.TipAboveFeeCap);
  const nonceBytes = scalar(values, layout.nonce);
  if (nonceBytes.length > 8 || bytesToBigint(nonceBytes) >= MAX_UINT64) throw new TxPoolError(E.NonceMax);
  if (layout.auth >= 0) {
    const auth = values[layout.auth];
    if (!Array.isArray(auth)) throw new TxPoolError(E.InvalidEncoding, "authorization list must be a list");
    if (auth.length === 0) throw new TxPoolError(E.EmptyAuthList);
  }

  const tx = construct(values as Uint8Array[], type, ctx.common);
  if (!tx.isSigned()) throw new TxPoolError(E.InvalidSender, INVALID_SIG);
  const sig = signingPayload(values as Uint8Array[], type, ctx.chainId);

  const intrinsic = tx.getIntrinsicGas();
  if (gasLimit < intrinsic) {
    throw new TxPoolError(E.IntrinsicGas, `gas ${gasLimit}, minimum needed ${intrinsic}`);
  }
  const floor = getCalldataFloorGas(tx);
  if (gasLimit < floor) throw new TxPoolError(E.FloorDataGas, `gas ${gasLimit}, minimum needed ${floor}`);
  if (tipCap < ctx.minTip) {
    throw new TxPoolError(E.GasPriceTooLow, `gas tip cap ${tipCap}, minimum needed ${ctx.minTip}`);
  }
  const value = tx.value;
  return {
    hash,
    raw,
    tx,
    type,
    nonce: tx.nonce,
    gasLimit,
    feeCap,
    tipCap,
    value,
    cost: gasLimit * feeCap + value,
    authorities: [],
    ...sig,
  };
}

const EMPTY = new Uint8Array(0);

/**
 * The hash the sender signed, computed from the decoded RLP items (no re-encoding of
 * bigints, which @ethereumjs' `getMessageToVerifySignature` does), and the signature parts.
 */
function signingPayload(
  values: Uint8Array[],
  type: number,
  chainId: bigint,
): { sigHash: Uint8Array; r: Uint8Array; s: Uint8Array; recovery: bigint } {
  const n = values.length;
  const r = values[n - 2] as Uint8Array;
  const s = values[n - 1] as Uint8Array;
  if (type === 0) {
    const v = bytesToBigint(values[6] as Uint8Array);
    const unprotected = v === 27n || v === 28n;
    const fields = unprotected
      ? values.slice(0, 6)
      : [...values.slice(0, 6), bigIntToUnpaddedBytes(chainId), EMPTY, EMPTY];
    return {
      sigHash: keccak256(RLP.encode(fields)),
      r,
      s,
      recovery: unprotected ? v - 27n : v - (chainId * 2n + 35n),
    };
  }
  const body = RLP.encode(values.slice(0, n - 3) as never);
  const msg = new Uint8Array(body.length + 1);
  msg[0] = type;
  msg.set(body, 1);
  return { sigHash: keccak256(msg), r, s, recovery: bytesToBigint(values[n - 3] as Uint8Array) };
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The sender's address, or undefined when the signature is not a valid low-s one. */
function recoverSender(d: DecodedTx): Address | undefined {
  if (d.recovery !== 0n && d.recovery !== 1n) return undefined;
  if (d.r.length > 32 || d.s.length > 32) return undefined;
  const r = bytesToBigint(d.r);
  const s = bytesToBigint(d.s);
  // EIP-2: s in the lower half of the order.
  if (r === 0n || r >= SECP256K1_N || s === 0n || s > SECP256K1_N / 2n) return undefined;
  const sig = new Uint8Array(64);
  sig.set(d.r, 32 - d.r.length);
  sig.set(d.s, 64 - d.s.length);
  const pub = secp256k1.recover(d.sigHash, sig, Number(d.recovery));
  // Keep the key on the transaction (@ethereumjs' sender cache, 64 bytes without 0x04): block
  // building and re-execution of the same object then skip a second recovery.
  d.tx.cache.senderPubKey = pub.subarray(1);
  return bytesToHex(publicKeyToAddress(pub));
}

function checkChainId(values: unknown[], type: number, ctx: DecodeContext): void {
  if (type !== 0) {
    const have = bytesToBigint(scalar(values, 0));
    if (have !== ctx.chainId) throw new TxPoolError(E.InvalidChainId, `have ${have} want ${ctx.chainId}`);
    return;
  }
  const v = bytesToBigint(scalar(values, 6));
  if (v === 27n || v === 28n) {
    if (!ctx.allowUnprotectedTxs) throw new TxPoolError(E.Unprotected);
    return;
  }
  if (v < 35n) throw new TxPoolError(E.InvalidSender, INVALID_SIG);
  const have = (v - 35n) / 2n;
  if (have !== ctx.chainId) throw new TxPoolError(E.InvalidChainId, `have ${have} want ${ctx.chainId}`);
}

function construct(values: Uint8Array[], type: number, common: Common): TypedTransaction {
  try {
    switch (type) {
      case 0:
        return createLegacyTxFromBytesArray(values, { common });
      case 1:
        return createAccessList2930TxFromBytesArray(values as never, { common });
      case 2:
        return create1559FeeMarketTxFromBytesArray(values as never, { common });
      default:
        return createEOACode7702TxFromBytesArray(values as never, { common });
    }
  } catch (err) {
    const msg = (err as Error).message ?? "";
    if (/s-value|y-parity|signature|\bv\b/i.test(msg)) {
      throw new TxPoolError(E.InvalidSender, INVALID_SIG, { cause: err });
    }
    throw new TxPoolError(E.InvalidEncoding, msg.split(" (tx type=")[0], { cause: err });
  }
}

const AUTH_MAGIC = new Uint8Array([0x05]);

/**
 * The signers of an EIP-7702 authorization list (geth's `SetCodeAuthorities`): tuples whose
 * signature does not recover are skipped, as they are at execution.
 */
export function recoverAuthorities(tx: TypedTransaction): Address[] {
  if (tx.type !== 4) return [];
  const out: Address[] = [];
  for (const item of (tx as EOACode7702Tx).authorizationList) {
    const [chainId, address, nonce, yParity, r, s] = item;
    const parity = bytesToBigint(yParity);
    if (r.length > 32 || s.length > 32 || parity > 1n) continue;
    try {
      const msg = keccak256(concatBytes(AUTH_MAGIC, RLP.encode([chainId, address, nonce])));
      const sig = new Uint8Array(64);
      sig.set(r, 32 - r.length);
      sig.set(s, 64 - s.length);
      const addr = bytesToHex(publicKeyToAddress(secp256k1.recover(msg, sig, Number(parity))));
      if (!out.includes(addr)) out.push(addr);
    } catch {
      // an authorization that does not recover authorizes nobody
    }
  }
  return out;
}

/**
 * Recovers the senders of decoded transactions in one tight pass on the native secp256k1
 * path of `@dseq/crypto`, and the authorities of EIP-7702 ones. Entries that fail get a
 * `TxPoolError` instead.
 */
export function recoverSenders(txs: readonly DecodedTx[]): (Address | TxPoolError)[] {
  const out: (Address | TxPoolError)[] = new Array(txs.length);
  for (let i = 0; i < txs.length; i++) {
    try {
      const d = txs[i] as DecodedTx;
      const from = recoverSender(d);
      if (from === undefined) {
        out[i] = new TxPoolError(E.InvalidSender, INVALID_SIG);
        continue;
      }
      out[i] = from;
      if (d.type === 4) d.authorities = recoverAuthorities(d.tx);
    } catch (err) {
      out[i] = new TxPoolError(E.InvalidSender, INVALID_SIG, { cause: err });
    }
  }
  return out;
}
