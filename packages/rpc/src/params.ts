/**
 * Parameter decoding with geth's rules and (close to) geth's messages. A parser gets the raw
 * JSON value and returns a typed one or throws `ParamError`; the registry prefixes
 * "invalid argument N: " and answers -32602.
 */
import { DseqError, type Hex } from "@dseq/common";
import { RpcDseqCode } from "./errors.ts";
import type {
  AccessListEntry,
  AccountOverride,
  Address,
  AuthorizationData,
  CallRequest,
  StateOverrides,
} from "./types.ts";

/** A parameter that does not parse; the registry answers it as -32602 with its message. */
export class ParamError extends DseqError {
  override readonly code: typeof RpcDseqCode.BadParam = RpcDseqCode.BadParam;
  constructor(message: string) {
    super(RpcDseqCode.BadParam, message);
    this.name = "ParamError";
  }
}

export type Parser<T> = (value: unknown) => T;

export type BlockTag = "latest" | "earliest" | "pending" | "safe" | "finalized";
export type BlockRef =
  | { kind: "tag"; tag: BlockTag }
  | { kind: "number"; number: bigint }
  | { kind: "hash"; hash: Hex; requireCanonical: boolean };

const HEX_BODY = /^[0-9a-fA-F]*$/;
const BLOCK_TAGS = new Set<string>(["latest", "earliest", "pending", "safe", "finalized"]);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "string") return "string";
  return typeof value;
}

function typeError(value: unknown, goType: string): ParamError {
  return new ParamError(`json: cannot unmarshal ${describe(value)} into Go value of type ${goType}`);
}

/** geth hexutil quantity rules: 0x prefix, at least one digit, no leading zeros, bit limit. */
function parseQuantity(value: unknown, bits: number, goType: string): bigint {
  if (typeof value !== "string") throw typeError(value, goType);
  if (value.length === 0) throw new ParamError("empty hex string");
  if (!value.startsWith("0x") && !value.startsWith("0X"))
    throw new ParamError("hex string without 0x prefix");
  const body = value.slice(2);
  if (body.length === 0) throw new ParamError('hex string "0x"');
  if (!HEX_BODY.test(body)) throw new ParamError("invalid hex string");
  if (body.length > 1 && body[0] === "0") throw new ParamError("hex number with leading zero digits");
  if (body.length > bits / 4) throw new ParamError(`hex number > ${bits} bits`);
  return BigInt(`0x${body}`);
}

export const quantity: Parser<bigint> = (v) => parseQuantity(v, 256, "*hexutil.Big");
export const uint64: Parser<bigint> = (v) => parseQuantity(v, 64, "hexutil.Uint64");
export const uint: Parser<number> = (v) => {
  const n = parseQuantity(v, 64, "hexutil.Uint");
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ParamError("hex number > 53 bits");
  return Number(n);
};

/** Arbitrary-length byte string (hexutil.Bytes). */
export const data: Parser<Hex> = (v) => {
  if (typeof v !== "string") throw typeError(v, "hexutil.Bytes");
  if (!v.startsWith("0x") && !v.startsWith("0X")) throw new ParamError("hex string without 0x prefix");
  const body = v.slice(2);
  if (body.length % 2 !== 0) throw new ParamError("hex string of odd length");
  if (!HEX_BODY.test(body)) throw new ParamError("invalid hex string");
  return `0x${body.toLowerCase()}`;
};

function fixedBytes(size: number, goType: string): Parser<Hex> {
  return (v) => {
    if (typeof v !== "string") throw typeError(v, goType);
    if (!v.startsWith("0x") && !v.startsWith("0X")) {
      throw new ParamError(
        `json: cannot unmarshal hex string without 0x prefix into Go value of type ${goType}`,
      );
    }
    const body = v.slice(2);
    if (!HEX_BODY.test(body))
      throw new ParamError(`json: cannot unmarshal invalid hex string into Go value of type ${goType}`);
    if (body.length !== size * 2) {
      throw new ParamError(`hex string has length ${body.length}, want ${size * 2} for ${goType}`);
    }
    return `0x${body.toLowerCase()}`;
  };
}

export const address: Parser<Address> = fixedBytes(20, "common.Address");
export const hash: Parser<Hex> = fixedBytes(32, "common.Hash");

export const bool: Parser<boolean> = (v) => {
  if (typeof v !== "boolean") throw typeError(v, "bool");
  return v;
};

export const string: Parser<string> = (v) => {
  if (typeof v !== "string") throw typeError(v, "string");
  return v;
};

/** A block number or tag (geth rpc.BlockNumber). */
export const blockNumberOrTag: Parser<BlockRef> = (v) => {
  if (typeof v !== "string") throw typeError(v, "rpc.BlockNumber");
  if (BLOCK_TAGS.has(v)) return { kind: "tag", tag: v as BlockTag };
  const n = parseQuantity(v, 64, "rpc.BlockNumber");
  if (n > 0x7fffffffffffffffn) throw new ParamError("block number larger than int64");
  return { kind: "number", number: n };
};

/** A block number, tag, hash, or EIP-1898 object (geth rpc.BlockNumberOrHash). */
export const blockRef: Parser<BlockRef> = (v) => {
  if (typeof v === "string") {
    if (v.length === 66 && (v.startsWith("0x") || v.startsWith("0X"))) {
      return { kind: "hash", hash: hash(v), requireCanonical: false };
    }
    return blockNumberOrTag(v);
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const hasNumber = o.blockNumber !== undefined && o.blockNumber !== null;
    const hasHash = o.blockHash !== undefined && o.blockHash !== null;
    if (hasNumber && hasHash)
      throw new ParamError("cannot specify both BlockHash and BlockNumber, choose one or the other");
    if (hasHash) {
      const requireCanonical = o.requireCanonical === undefined ? false : bool(o.requireCanonical);
      return { kind: "hash", hash: hash(o.blockHash), requireCanonical };
    }
    if (hasNumber) return blockNumberOrTag(o.blockNumber);
    throw new ParamError("invalid block number or hash");
  }
  throw typeError(v, "rpc.BlockNumberOrHash");
};

/** geth's decodeHash for storage keys: up to 32 bytes, odd length allowed, left-padded. */
export function storageKey(v: unknown): { slot: Hex; bytes: number } {
  if (typeof v !== "string") throw typeError(v, "string");
  let body = v.startsWith("0x") || v.startsWith("0X") ? v.slice(2) : v;
  if (body.length % 2 === 1) body = `0${body}`;
  if (!HEX_BODY.test(body)) throw new ParamError(`invalid hex in storage key: ${JSON.stringify(v)}`);
  if (body.length > 64)
    throw new ParamError(`storage key too long (want at most 32 bytes): ${JSON.stringify(v)}`);
  return { slot: `0x${body.toLowerCase().padStart(64, "0")}`, bytes: body.length / 2 };
}

function object(v: unknown, goType: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw typeError(v, goType);
  return v as Record<string, unknown>;
}

function array<T>(v: unknown, item: Parser<T>, goType: string): T[] {
  if (!Array.isArray(v)) throw typeError(v, goType);
  return v.map(item);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export const accessList: Parser<AccessListEntry[]> = (v) =>
  array(
    v,
    (e) => {
      const o = object(e, "types.AccessTuple");
      return {
        address: address(o.address),
        storageKeys: present(o.storageKeys) ? array(o.storageKeys, hash, "[]common.Hash") : [],
      };
    },
    "types.AccessList",
  );

const authorization: Parser<AuthorizationData> = (v) => {
  const o = object(v, "types.SetCodeAuthorization");
  return {
    chainId: quantity(o.chainId),
    address: address(o.address),
    nonce: uint64(o.nonce),
    yParity: Number(uint64(o.yParity)),
    r: quantity(o.r),
    s: quantity(o.s),
  };
};

/** geth's TransactionArgs for eth_call, eth_estimateGas and eth_createAccessList. */
export const callRequest: Parser<CallRequest> = (v) => {
  const o = object(v, "ethapi.TransactionArgs");
  const req: CallRequest = {};
  if (present(o.from)) req.from = address(o.from);
  if (o.to === null) req.to = null;
  else if (o.to !== undefined) req.to = address(o.to);
  if (present(o.gas)) req.gas = uint64(o.gas);
  if (present(o.gasPrice)) req.gasPrice = quantity(o.gasPrice);
  if (present(o.maxFeePerGas)) req.maxFeePerGas = quantity(o.maxFeePerGas);
  if (present(o.maxPriorityFeePerGas)) req.maxPriorityFeePerGas = quantity(o.maxPriorityFeePerGas);
  if (present(o.maxFeePerBlobGas)) req.maxFeePerBlobGas = quantity(o.maxFeePerBlobGas);
  if (present(o.value)) req.value = quantity(o.value);
  if (present(o.nonce)) req.nonce = uint64(o.nonce);
  if (present(o.type)) req.type = Number(uint64(o.type));
  if (present(o.chainId)) req.chainId = quantity(o.chainId);
  const input = present(o.input) ? data(o.input) : undefined;
  const dataField = present(o.data) ? data(o.data) : undefined;
  if (input !== undefined && dataField !== undefined && input !== dataField) {
    throw new ParamError(
      'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data',
    );
  }
  const payload = input ?? dataField;
  if (payload !== undefined) req.input = payload;
  if (present(o.accessList)) req.accessList = accessList(o.accessList);
  if (present(o.blobVersionedHashes))
    req.blobVersionedHashes = array(o.blobVersionedHashes, hash, "[]common.Hash");
  if (present(o.authorizationList)) {
    req.authorizationList = array(o.authorizationList, authorization, "[]types.SetCodeAuthorization");
  }
  if (
    req.gasPrice !== undefined &&
    (req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined)
  ) {
    throw new ParamError("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
  }
  if (
    req.maxFeePerGas !== undefined &&
    req.maxPriorityFeePerGas !== undefined &&
    req.maxFeePerGas < req.maxPriorityFeePerGas
  ) {
    throw new ParamError(
      `maxFeePerGas (${req.maxFeePerGas}) < maxPriorityFeePerGas (${req.maxPriorityFeePerGas})`,
    );
  }
  return req;
};

function storageMap(v: unknown): Record<Hex, Hex> {
  const o = object(v, "map[common.Hash]common.Hash");
  const out: Record<Hex, Hex> = {};
  for (const [k, val] of Object.entries(o)) out[hash(k)] = hash(val);
  return out;
}

/** geth's StateOverride: address -> {nonce, code, balance, state | stateDiff}. */
export const stateOverrides: Parser<StateOverrides> = (v) => {
  const o = object(v, "override.StateOverride");
  const out: StateOverrides = {};
  for (const [addr, raw] of Object.entries(o)) {
    const a = address(addr);
    const acc = object(raw, "override.OverrideAccount");
    const ov: AccountOverride = {};
    if (present(acc.nonce)) ov.nonce = uint64(acc.nonce);
    if (present(acc.code)) ov.code = data(acc.code);
    if (present(acc.balance)) ov.balance = quantity(acc.balance);
    if (present(acc.state) && present(acc.stateDiff)) {
      throw new ParamError(`account ${a} has both 'state' and 'stateDiff'`);
    }
    if (present(acc.state)) ov.state = storageMap(acc.state);
    if (present(acc.stateDiff)) ov.stateDiff = storageMap(acc.stateDiff);
    out[a] = ov;
  }
  return out;
};

export type LogFilter = {
  blockHash?: Hex;
  fromBlock?: BlockRef;
  toBlock?: BlockRef;
  addresses: Address[];
  /** Per position: null = wildcard, else any of the listed topics. */
  topics: (Hex[] | null)[];
};

export const MAX_TOPICS = 4;

/** geth's FilterCriteria. */
export const logFilter: Parser<LogFilter> = (v) => {
  const o = object(v, "filters.FilterCriteria");
  const f: LogFilter = { addresses: [], topics: [] };
  if (present(o.blockHash)) {
    if (present(o.fromBlock) || present(o.toBlock)) {
      throw new ParamError("cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other");
    }
    f.blockHash = hash(o.blockHash);
  }
  if (present(o.fromBlock)) f.fromBlock = blockNumberOrTag(o.fromBlock);
  if (present(o.toBlock)) f.toBlock = blockNumberOrTag(o.toBlock);
  if (present(o.address)) {
    f.addresses = Array.isArray(o.address) ? o.address.map(address) : [address(o.address)];
  }
  if (present(o.topics)) {
    if (!Array.isArray(o.topics)) throw typeError(o.topics, "[][]common.Hash");
    if (o.topics.length > MAX_TOPICS) throw new ParamError("too many topics");
    f.topics = o.topics.map((t) => {
      if (t === null) return null;
      if (typeof t === "string") return [hash(t)];
      if (Array.isArray(t)) {
        // geth: an empty list at a position, or one containing null, is a wildcard.
        if (t.length === 0 || t.some((x) => x === null)) return null;
        return t.map(hash);
      }
      throw new ParamError("invalid topic(s)");
    });
  }
  return f;
};

/** Marks a parser as optional: an omitted (or null) argument gets `fallback`. */
export type ParamSpec<T> = { parse: Parser<T>; optional: boolean; fallback?: T };

export function required<T>(parse: Parser<T>): ParamSpec<T> {
  return { parse, optional: false };
}

export function optional<T>(parse: Parser<T>, fallback?: T): ParamSpec<T | undefined> {
  return fallback === undefined ? { parse, optional: true } : { parse, optional: true, fallback };
}

export const LATEST: BlockRef = { kind: "tag", tag: "latest" };
