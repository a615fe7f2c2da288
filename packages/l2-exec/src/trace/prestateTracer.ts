import type { StateManagerInterface } from "@ethereumjs/common";
import {
  bigIntToBytes,
  bytesToHex,
  createAddressFromString,
  equalsBytes,
  generateAddress,
  generateAddress2,
  hexToBytes,
  KECCAK256_NULL,
  setLengthLeft,
} from "@ethereumjs/util";
import type { Hex, OpcodeStep, Tracer, TxEnv } from "./hooks.ts";
import { quantity } from "./json.ts";

export type PrestateTracerConfig = {
  diffMode?: boolean;
  disableCode?: boolean;
  disableStorage?: boolean;
  includeEmpty?: boolean;
};

type AccountState = {
  balance?: bigint;
  code?: Uint8Array;
  codeHash?: Hex;
  nonce: bigint;
  storage?: Map<Hex, Hex>;
  empty: boolean;
};

const ZERO_WORD = `0x${"00".repeat(32)}` as Hex;
const toAddr = (v: bigint): Hex => `0x${v.toString(16).padStart(40, "0").slice(-40)}` as Hex;
const toWord = (v: bigint): Hex => `0x${v.toString(16).padStart(64, "0")}` as Hex;

/** An EIP-7702 delegation designator's target, if `code` is one. */
function delegationTarget(code: Uint8Array): Hex | undefined {
  if (code.length !== 23 || code[0] !== 0xef || code[1] !== 0x01 || code[2] !== 0x00) return undefined;
  return bytesToHex(code.subarray(3)) as Hex;
}

function memSlice(memory: Uint8Array, offset: bigint, size: bigint): Uint8Array {
  const out = new Uint8Array(Number(size));
  const off = Number(offset);
  if (off < memory.length) out.set(memory.subarray(off, Math.min(memory.length, off + out.length)));
  return out;
}

/** geth's native `prestateTracer` (eth/tracers/native/prestate.go), plain and `diffMode`. */
export class PrestateTracer implements Tracer {
  readonly wantsOpcodes = true;
  private readonly pre = new Map<Hex, AccountState>();
  private readonly post = new Map<Hex, AccountState>();
  private readonly created = new Set<Hex>();
  private readonly deleted = new Set<Hex>();
  private env: TxEnv | undefined;

  private readonly config: PrestateTracerConfig;
  constructor(config: PrestateTracerConfig = {}) {
    this.config = config;
    if (config.diffMode === true && config.includeEmpty === true)
      throw new Error("cannot use diffMode with includeEmpty");
  }

  private get state(): StateManagerInterface {
    return (this.env as TxEnv).state;
  }

  async onTxStart(env: TxEnv): Promise<void> {
    this.env = env;
    if (env.created) this.created.add(env.to);
    else if (env.isActivatedEIP(7702)) {
      const target = delegationTarget(await this.state.getCode(createAddressFromString(env.to)));
      if (target !== undefined) await this.lookupAccount(target);
    }
    await this.lookupAccount(env.from);
    await this.lookupAccount(env.to);
    await this.lookupAccount(env.coinbase);
    const auths = (env.tx as { authorizationList?: unknown[] }).authorizationList;
    if (auths !== undefined && auths.length > 0) {
      const { eoaCode7702RecoverAuthority } = await import("@ethereumjs/util");
      for (const auth of auths) {
        try {
          const authority = eoaCode7702RecoverAuthority(
            auth as Parameters<typeof eoaCode7702RecoverAuthority>[0],
          );
          await this.lookupAccount(authority.toString().toLowerCase() as Hex);
        } catch {
          // geth skips an authorization whose signer cannot be recovered.
        }
      }
    }
  }

  async onOpcode(s: OpcodeStep): Promise<void> {
    const n = s.stack.length;
    const at = (i: number): bigint => s.stack[n - 1 - i] ?? 0n;
    const op = s.op;
    const caller = s.address;
    if (n >= 1 && (op === 0x54 || op === 0x55)) {
      await this.lookupStorage(caller, toWord(at(0)));
    } else if (n >= 1 && (op === 0x3c || op === 0x3f || op === 0x3b || op === 0x31 || op === 0xff)) {
      await this.lookupAccount(toAddr(at(0)));
      if (op === 0xff) {
        if (!(this.env as TxEnv).gteHardfork("cancun") || this.created.has(caller)) this.deleted.add(caller);
      }
    } else if (n >= 5 && (op === 0xf4 || op === 0xf1 || op === 0xfa || op === 0xf2)) {
      const addr = toAddr(at(1));
      await this.lookupAccount(addr);
      if ((this.env as TxEnv).isActivatedEIP(7702)) {
        const target = delegationTarget(await this.state.getCode(createAddressFromString(addr)));
        if (target !== undefined) await this.lookupAccount(target);
      }
    } else if (op === 0xf0) {
      const nonce = (await this.state.getAccount(createAddressFromString(caller)))?.nonce ?? 0n;
      const addr = bytesToHex(
        generateAddress(hexToBytes(caller), nonce === 0n ? new Uint8Array(0) : bigIntToBytes(nonce)),
      ) as Hex;
      await this.lookupAccount(addr);
      this.created.add(addr);
    } else if (n >= 4 && op === 0xf5) {
      const init = memSlice(s.memory, at(1), at(2));
      const salt = setLengthLeft(bigIntToBytes(at(3)), 32);
      const addr = bytesToHex(generateAddress2(hexToBytes(caller), salt, init)) as Hex;
      await this.lookupAccount(addr);
      this.created.add(addr);
    }
  }

  async onTxEnd(): Promise<void> {
    if (this.config.diffMode === true) await this.processDiffState();
    if (this.config.includeEmpty === true) return;
    for (const [addr, s] of this.pre) if (s.empty) this.pre.delete(addr);
  }

  private async processDiffState(): Promise<void> {
    for (const [addr, pre] of this.pre) {
      if (this.deleted.has(addr)) continue;
      let modified = false;
      const post: AccountState = { nonce: 0n, storage: new Map(), empty: false };
      const address = createAddressFromString(addr);
      const account = await this.state.getAccount(address);
      const balance = account?.balance ?? 0n;
      const nonce = account?.nonce ?? 0n;
      const code = await this.state.getCode(address);
      const codeHash =
        account === undefined || equalsBytes(account.codeHash, KECCAK256_NULL)
          ? undefined
          : (bytesToHex(account.codeHash) as Hex);
      if (balance !== pre.balance) {
        modified = true;
        post.balance = balance;
      }
      if (nonce !== pre.nonce) {
        modified = true;
        post.nonce = nonce;
      }
      if (codeHash !== pre.codeHash) {
        modified = true;
        post.codeHash = codeHash ?? (bytesToHex(KECCAK256_NULL) as Hex);
      }
      if (this.config.disableCode !== true) {
        const prevCode = pre.code ?? new Uint8Array(0);
        if (!equalsBytes(code, prevCode)) {
          modified = true;
          post.code = code;
        }
      }
      if (this.config.disableStorage !== true && pre.storage !== undefined) {
        for (const [key, val] of [...pre.storage]) {
          if (val === ZERO_WORD) pre.storage.delete(key);
          const now = await this.readSlot(addr, key);
          if (val === now) pre.storage.delete(key);
          else {
            modified = true;
            if (now !== ZERO_WORD) post.storage?.set(key, now);
          }
        }
      }
      if (modified) this.post.set(addr, post);
      else this.pre.delete(addr);
    }
  }

  private async lookupAccount(addr: Hex): Promise<void> {
    if (this.pre.has(addr)) return;
    const address = createAddressFromString(addr);
    const account = await this.state.getAccount(address);
    const code = await this.state.getCode(address);
    const acc: AccountState = { balance: account?.balance ?? 0n, nonce: account?.nonce ?? 0n, empty: false };
    if (code.length > 0) acc.code = code;
    if (account !== undefined && !equalsBytes(account.codeHash, KECCAK256_NULL))
      acc.codeHash = bytesToHex(account.codeHash) as Hex;
    if (!(acc.nonce > 0n || code.length > 0 || (acc.balance ?? 0n) !== 0n)) acc.empty = true;
    if (this.config.disableCode === true) delete acc.code;
    if (this.config.disableStorage !== true) acc.storage = new Map();
    this.pre.set(addr, acc);
  }

  private async lookupStorage(addr: Hex, key: Hex): Promise<void> {
    if (this.config.disableStorage === true) return;
    const acc = this.pre.get(addr);
    if (acc?.storage === undefined || acc.storage.has(key)) return;
    acc.storage.set(key, await this.readSlot(addr, key));
  }

  private async readSlot(addr: Hex, key: Hex): Promise<Hex> {
    const v = await this.state.getStorage(createAddressFromString(addr), hexToBytes(key));
    return bytesToHex(setLengthLeft(v, 32)) as Hex;
  }

  result(): unknown {
    const map = (m: Map<Hex, AccountState>) => {
      const out: Record<string, unknown> = {};
      for (const [addr, a] of m) out[addr] = accountJson(a);
      return out;
    };
    if (this.config.diffMode === true) return { post: map(this.post), pre: map(this.pre) };
    return map(this.pre);
  }
}

function accountJson(a: AccountState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (a.balance !== undefined) out.balance = quantity(a.balance);
  if (a.code !== undefined) out.code = bytesToHex(a.code);
  if (a.codeHash !== undefined) out.codeHash = a.codeHash;
  if (a.nonce !== 0n) out.nonce = Number(a.nonce);
  if (a.storage !== undefined && a.storage.size > 0) out.storage = Object.fromEntries(a.storage);
  return out;
}
