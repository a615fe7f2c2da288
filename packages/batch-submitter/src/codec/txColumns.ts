// Span-batch-style transaction columns: each field of every transaction goes to its own column
// (kinds, signatures, nonces, gas, fees, recipients, values, data, access lists), without the
// chain id and with the signature's v reduced to a y-parity byte. Like fields sit together, so
// the compressor sees runs of near-identical bytes (ADR 0140).
import {
  type AccessList,
  bytesToHex,
  fromRlp,
  type Hex,
  hexToBigInt,
  hexToBytes,
  parseTransaction,
  serializeTransaction,
  type TransactionSerializable,
  toRlp,
} from "viem";
import { badData } from "../errors.ts";
import { type ByteReader, ByteWriter } from "./byteStream.ts";

/** Transaction kinds in the kinds column. `raw` keeps any other transaction as its exact bytes. */
export const TxKind = { raw: 0, legacy: 1, eip2930: 2, eip1559: 3 } as const;
export type TxKind = (typeof TxKind)[keyof typeof TxKind];

export const TX_COLUMNS = [
  "kinds",
  "parity",
  "sigs",
  "nonces",
  "gas",
  "fees",
  "tos",
  "values",
  "datas",
  "access",
  "raws",
  "amounts",
] as const;
export type TxColumn = (typeof TX_COLUMNS)[number];

export type TxColumnWriters = Record<TxColumn, ByteWriter>;
export type TxColumnReaders = Record<TxColumn, ByteReader>;

export function createTxColumnWriters(): TxColumnWriters {
  return Object.fromEntries(TX_COLUMNS.map((c) => [c, new ByteWriter()])) as TxColumnWriters;
}

const word = (x: bigint): Uint8Array => hexToBytes(`0x${x.toString(16).padStart(64, "0")}`);

function accessListToRlp(list: AccessList | undefined): Uint8Array {
  return toRlp((list ?? []).map((e) => [e.address, e.storageKeys]) as never, "bytes");
}

function accessListFromRlp(b: Uint8Array): AccessList {
  let decoded: unknown;
  try {
    decoded = fromRlp(b, "hex");
  } catch (err) {
    throw badData("batch: access list is not RLP", { cause: String(err) });
  }
  if (!Array.isArray(decoded)) throw badData("batch: access list is not a list");
  return decoded.map((e) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string" || !Array.isArray(e[1])) {
      throw badData("batch: malformed access list entry");
    }
    const keys = e[1] as unknown[];
    if (e[0].length !== 42 || keys.some((k) => typeof k !== "string" || k.length !== 66)) {
      throw badData("batch: malformed access list address or key");
    }
    return { address: e[0] as Hex, storageKeys: keys as Hex[] };
  });
}

type Parsed = ReturnType<typeof parseTransaction>;

/** Writes one transaction into the columns; anything it cannot strip exactly stays raw. */
export function writeTx(w: TxColumnWriters, raw: Uint8Array, chainId: bigint): void {
  const stripped = tryStrip(raw, chainId);
  if (!stripped) {
    w.kinds.byte(TxKind.raw);
    w.raws.lbytes(raw);
    return;
  }
  const { kind, tx } = stripped;
  w.kinds.byte(kind);
  w.parity.byte(tx.yParity!);
  w.sigs.bytes(word(hexToBigInt(tx.r!)));
  w.sigs.bytes(word(hexToBigInt(tx.s!)));
  w.nonces.varint(tx.nonce ?? 0);
  w.gas.varint(tx.gas ?? 0n);
  if (kind === TxKind.eip1559) {
    w.fees.varint(tx.maxPriorityFeePerGas ?? 0n);
    w.fees.varint(tx.maxFeePerGas ?? 0n);
  } else {
    w.fees.varint(tx.gasPrice ?? 0n);
  }
  if (tx.to) {
    w.tos.byte(1);
    w.tos.bytes(hexToBytes(tx.to));
  } else {
    w.tos.byte(0);
  }
  writeDecimal(w.values, tx.value ?? 0n);
  writeData(w, tx.data ? hexToBytes(tx.data) : new Uint8Array(0));
  if (kind !== TxKind.legacy) w.access.lbytes(accessListToRlp(tx.accessList));
}

function tryStrip(raw: Uint8Array, chainId: bigint): { kind: TxKind; tx: Parsed } | undefined {
  let tx: Parsed;
  try {
    tx = parseTransaction(bytesToHex(raw));
  } catch {
    return undefined;
  }
  const kind =
    tx.type === "legacy"
      ? TxKind.legacy
      : tx.type === "eip2930"
        ? TxKind.eip2930
        : tx.type === "eip1559"
          ? TxKind.eip1559
          : undefined;
  if (kind === undefined || tx.r === undefined || tx.s === undefined) return undefined;
  if (BigInt(tx.chainId ?? -1) !== chainId) return undefined; // pre-EIP-155 or another chain: keep exact bytes
  let yParity = tx.yParity;
  if (kind === TxKind.legacy) {
    if (tx.v === undefined) return undefined;
    yParity = Number(tx.v - chainId * 2n - 35n);
  }
  if (yParity !== 0 && yParity !== 1) return undefined;
  const full = { ...tx, yParity } as Parsed;
  // Only strip what restores byte-for-byte (non-canonical encodings stay raw).
  const back = restore(kind, full, chainId);
  if (bytesToHex(back) !== bytesToHex(raw)) return undefined;
  return { kind, tx: full };
}

function restore(kind: TxKind, tx: Parsed, chainId: bigint): Uint8Array {
  const r = tx.r!;
  const s = tx.s!;
  const yParity = tx.yParity!;
  const base = {
    chainId: Number(chainId),
    nonce: tx.nonce,
    gas: tx.gas,
    to: tx.to ?? null,
    value: tx.value,
    data: tx.data,
  };
  let body: TransactionSerializable;
  let sig: { r: Hex; s: Hex; yParity?: number; v?: bigint };
  if (kind === TxKind.legacy) {
    body = { ...base, type: "legacy", gasPrice: tx.gasPrice } as TransactionSerializable;
    sig = { r, s, v: chainId * 2n + 35n + BigInt(yParity) };
  } else if (kind === TxKind.eip2930) {
    body = {
      ...base,
      type: "eip2930",
      gasPrice: tx.gasPrice,
      accessList: tx.accessList ?? [],
    } as TransactionSerializable;
    sig = { r, s, yParity };
  } else {
    body = {
      ...base,
      type: "eip1559",
      maxFeePerGas: tx.maxFeePerGas,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
      accessList: tx.accessList ?? [],
    } as TransactionSerializable;
    sig = { r, s, yParity };
  }
  return hexToBytes(serializeTransaction(body, sig as never));
}

const toHexWord = (b: Uint8Array): Hex => {
  // Canonical integer form: viem serializes r/s as minimal big-endian.
  const x = BigInt(bytesToHex(b));
  return `0x${x.toString(16).padStart(64, "0")}` as Hex;
};

/** Reads the next transaction from the columns and rebuilds its exact signed bytes. */
export function readTx(r: TxColumnReaders, chainId: bigint, maxTxBytes: number): Uint8Array {
  const kind = r.kinds.byte("tx kind");
  if (kind === TxKind.raw) return r.raws.lbytes("raw tx", maxTxBytes);
  if (kind !== TxKind.legacy && kind !== TxKind.eip2930 && kind !== TxKind.eip1559) {
    throw badData(`batch: unknown tx kind ${kind}`);
  }
  const yParity = r.parity.byte("y parity");
  if (yParity > 1) throw badData(`batch: y parity ${yParity} is not 0 or 1`);
  const rr = toHexWord(r.sigs.bytes(32, "signature r"));
  const ss = toHexWord(r.sigs.bytes(32, "signature s"));
  const nonce = r.nonces.varint("nonce");
  const gas = r.gas.varint("gas");
  const fee1 = r.fees.varint("fee", 256);
  const fee2 = kind === TxKind.eip1559 ? r.fees.varint("max fee", 256) : 0n;
  const hasTo = r.tos.byte("to flag");
  if (hasTo > 1) throw badData(`batch: to flag ${hasTo} is not 0 or 1`);
  const to = hasTo ? bytesToHex(r.tos.bytes(20, "to")) : undefined;
  const value = readDecimal(r.values, "value");
  const data = bytesToHex(readData(r, maxTxBytes));
  const accessList =
    kind === TxKind.legacy ? undefined : accessListFromRlp(r.access.lbytes("access list", maxTxBytes));
  const tx = {
    nonce: Number(nonce),
    gas,
    to,
    value,
    data,
    accessList,
    r: rr,
    s: ss,
    yParity,
    gasPrice: kind === TxKind.eip1559 ? undefined : fee1,
    maxPriorityFeePerGas: kind === TxKind.eip1559 ? fee1 : undefined,
    maxFeePerGas: kind === TxKind.eip1559 ? fee2 : undefined,
  } as unknown as Parsed;
  if (nonce > BigInt(Number.MAX_SAFE_INTEGER)) throw badData("batch: nonce out of range");
  let out: Uint8Array;
  try {
    out = restore(kind, tx, chainId);
  } catch (err) {
    throw badData("batch: transaction fields do not serialize", { cause: String(err) });
  }
  if (out.length > maxTxBytes)
    throw badData(`batch: transaction of ${out.length} bytes exceeds ${maxTxBytes}`);
  return out;
}

// Amounts people send are round decimals (0.25 ETH, 1,000 tokens): stored as a power of ten and
// the rest, the random-looking binary of 250000000000000000 shrinks to two small numbers (ADR 0140).
const MAX_EXP = 77; // 10^77 < 2^256 < 10^78
const TEN_POW = Array.from({ length: MAX_EXP + 1 }, (_, i) => 10n ** BigInt(i));

function writeDecimal(w: ByteWriter, v: bigint): void {
  let e = 0;
  let m = v;
  while (m !== 0n && m % 10n === 0n && e < MAX_EXP) {
    m /= 10n;
    e++;
  }
  w.byte(e);
  w.varint(m);
}

function readDecimal(r: ByteReader, field: string): bigint {
  const e = r.byte(`${field} exponent`);
  if (e > MAX_EXP) throw badData(`batch: ${field} exponent ${e} exceeds ${MAX_EXP}`);
  const m = r.varint(field, 256);
  if ((m === 0n && e !== 0) || (m !== 0n && m % 10n === 0n && e < MAX_EXP)) {
    throw badData(`batch: non-canonical decimal ${field}`);
  }
  const v = m * TEN_POW[e]!;
  if (v >> 256n !== 0n) throw badData(`batch: ${field} exceeds 256 bits`);
  return v;
}

/** Data column form: 0 = bytes as they are, 1 = ERC-20 `transfer(address,uint256)`. */
const DataForm = { bytes: 0, erc20Transfer: 1 } as const;
const TRANSFER_SELECTOR = "a9059cbb";

function writeData(w: TxColumnWriters, data: Uint8Array): void {
  if (data.length === 68) {
    const hex = bytesToHex(data).slice(2);
    if (hex.startsWith(TRANSFER_SELECTOR) && hex.slice(8, 32) === "0".repeat(24)) {
      w.datas.byte(DataForm.erc20Transfer);
      w.datas.bytes(data.subarray(16, 36));
      writeDecimal(w.amounts, BigInt(`0x${hex.slice(72)}`));
      return;
    }
  }
  w.datas.byte(DataForm.bytes);
  w.datas.lbytes(data);
}

function readData(r: TxColumnReaders, maxTxBytes: number): Uint8Array {
  const form = r.datas.byte("data form");
  if (form === DataForm.bytes) return r.datas.lbytes("tx data", maxTxBytes);
  if (form !== DataForm.erc20Transfer) throw badData(`batch: unknown data form ${form}`);
  const out = new Uint8Array(68);
  out.set(hexToBytes(`0x${TRANSFER_SELECTOR}`), 0);
  out.set(r.datas.bytes(20, "transfer recipient"), 16);
  out.set(word(readDecimal(r.amounts, "transfer amount")), 36);
  return out;
}
