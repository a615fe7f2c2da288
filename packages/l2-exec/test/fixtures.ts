import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, privateKeyToAddress } from "@dseq/crypto";
import type { Common } from "@ethereumjs/common";
import { createFeeMarket1559Tx, type FeeMarket1559Tx } from "@ethereumjs/tx";
import { bytesToHex, concatBytes, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import type { ChainState } from "../src/chainState.ts";
import { type Chain, type ChainConfig, createChain, type GenesisAccount, type Hex } from "../src/index.ts";
import type { ChainLevel } from "../src/nodeStore.ts";

/** A tiny EVM assembler: mnemonics, `PUSHn 0x..`, `@label` (JUMPDEST) and `:label` (PUSH2 label). */
const OPS: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  SUB: 0x03,
  LT: 0x10,
  GT: 0x11,
  EQ: 0x14,
  ISZERO: 0x15,
  SHR: 0x1c,
  SHA3: 0x20,
  CALLER: 0x33,
  CALLVALUE: 0x34,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  POP: 0x50,
  MLOAD: 0x51,
  MSTORE: 0x52,
  SLOAD: 0x54,
  SSTORE: 0x55,
  JUMP: 0x56,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  DUP1: 0x80,
  DUP2: 0x81,
  DUP3: 0x82,
  DUP4: 0x83,
  SWAP1: 0x90,
  SWAP2: 0x91,
  LOG3: 0xa3,
  RETURN: 0xf3,
  REVERT: 0xfd,
};

export function asm(src: string): Uint8Array {
  const toks = src.split(/\s+/).filter((t) => t.length > 0);
  const labels = new Map<string, number>();
  const emit = (resolve: boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i] as string;
      if (t.startsWith("@")) {
        labels.set(t.slice(1), out.length);
        out.push(OPS.JUMPDEST as number);
      } else if (t.startsWith(":")) {
        const at = resolve ? (labels.get(t.slice(1)) ?? 0) : 0;
        out.push(0x61, at >> 8, at & 0xff);
      } else if (t.startsWith("PUSH")) {
        const n = Number(t.slice(4));
        const v = hexToBytes(toks[++i] as Hex);
        out.push(0x5f + n, ...setLengthLeft(v, n));
      } else {
        const op = OPS[t];
        if (op === undefined) throw new Error(`unknown op ${t}`);
        out.push(op);
      }
    }
    return out;
  };
  emit(false);
  return Uint8Array.from(emit(true));
}

export const TRANSFER_TOPIC = bytesToHex(
  keccak256(new TextEncoder().encode("Transfer(address,address,uint256)")),
);

/** A minimal ERC-20 (balances at mapping slot 0): transfer(address,uint256), balanceOf(address). */
export const ERC20_CODE = asm(`
  PUSH1 0x00 CALLDATALOAD PUSH1 0xe0 SHR
  DUP1 PUSH4 0xa9059cbb EQ :transfer JUMPI
  DUP1 PUSH4 0x70a08231 EQ :balanceOf JUMPI
  PUSH1 0x00 DUP1 REVERT
  @balanceOf
  PUSH1 0x04 CALLDATALOAD PUSH1 0x00 MSTORE PUSH1 0x00 PUSH1 0x20 MSTORE
  PUSH1 0x40 PUSH1 0x00 SHA3 SLOAD PUSH1 0x00 MSTORE PUSH1 0x20 PUSH1 0x00 RETURN
  @transfer
  CALLER PUSH1 0x00 MSTORE PUSH1 0x00 PUSH1 0x20 MSTORE PUSH1 0x40 PUSH1 0x00 SHA3
  DUP1 SLOAD PUSH1 0x24 CALLDATALOAD
  DUP1 DUP3 LT :fail JUMPI
  DUP1 DUP3 SUB DUP4 SSTORE
  PUSH1 0x04 CALLDATALOAD PUSH1 0x00 MSTORE PUSH1 0x40 PUSH1 0x00 SHA3
  DUP1 SLOAD DUP3 ADD SWAP1 SSTORE
  PUSH1 0x00 MSTORE
  PUSH1 0x04 CALLDATALOAD CALLER PUSH32 ${TRANSFER_TOPIC} PUSH1 0x20 PUSH1 0x00 LOG3
  PUSH1 0x01 PUSH1 0x00 MSTORE PUSH1 0x20 PUSH1 0x00 RETURN
  @fail
  PUSH1 0x00 DUP1 REVERT
`);

export const TOKEN = "0x00000000000000000000000000000000000e2c20" as Hex;

/** Storage slot of `balances[holder]` in ERC20_CODE. */
export function balanceSlot(holder: Hex): Hex {
  return bytesToHex(keccak256(concatBytes(setLengthLeft(hexToBytes(holder), 32), new Uint8Array(32))));
}

export function transferCalldata(to: Hex, amount: bigint): Uint8Array {
  return concatBytes(
    hexToBytes("0xa9059cbb"),
    setLengthLeft(hexToBytes(to), 32),
    setLengthLeft(hexToBytes(`0x${amount.toString(16).padStart(2, "0")}` as Hex), 32),
  );
}

export type TestAccount = { key: Uint8Array; address: Hex };

export function testAccounts(n: number, seed = "dseq-l2-exec"): TestAccount[] {
  const out: TestAccount[] = [];
  for (let i = 0; i < n; i++) {
    const key = keccak256(new TextEncoder().encode(`${seed}/${i}`));
    out.push({ key, address: bytesToHex(privateKeyToAddress(key)) });
  }
  return out;
}

/** Address only (no key): cheap filler accounts for a large genesis. */
export function fillerAddress(i: number): Hex {
  return bytesToHex(keccak256(new TextEncoder().encode(`filler/${i}`)).subarray(12));
}

export const ETH = 10n ** 18n;

export function testChainConfig(opts: {
  senders: TestAccount[];
  fillers?: number;
  tokenHolders?: number;
  chainId?: number;
  gasLimit?: bigint;
}): ChainConfig {
  const alloc: Record<string, GenesisAccount> = {};
  for (const a of opts.senders) alloc[a.address] = { balance: 1000n * ETH };
  for (let i = 0; i < (opts.fillers ?? 0); i++) alloc[fillerAddress(i)] = { balance: ETH };
  const storage: Record<string, string> = {};
  const holders = Math.min(opts.tokenHolders ?? opts.senders.length, opts.senders.length);
  for (let i = 0; i < holders; i++)
    storage[balanceSlot((opts.senders[i] as TestAccount).address)] = "0x0f4240"; // 1,000,000
  alloc[TOKEN] = { balance: 0n, code: bytesToHex(ERC20_CODE) as Hex, storage };
  return {
    chainId: opts.chainId ?? 901,
    gasLimit: opts.gasLimit ?? 60_000_000n,
    baseFeePerGas: 1_000_000_000n,
    timestamp: 1_700_000_000n,
    extraData: "0x6473657120746573746e6574",
    alloc,
  };
}

export function transferTx(
  common: Common,
  from: TestAccount,
  nonce: bigint,
  to: Hex,
  value: bigint,
  opts: { gasLimit?: bigint; maxFee?: bigint; data?: Uint8Array } = {},
): FeeMarket1559Tx {
  return createFeeMarket1559Tx(
    {
      chainId: common.chainId(),
      nonce,
      to,
      value,
      gasLimit: opts.gasLimit ?? 21_000n,
      maxFeePerGas: opts.maxFee ?? 10_000_000_000n,
      maxPriorityFeePerGas:
        (opts.maxFee ?? 10_000_000_000n) < 1_000_000_000n ? (opts.maxFee ?? 0n) : 1_000_000_000n,
      ...(opts.data ? { data: opts.data } : {}),
    },
    { common },
  ).sign(from.key);
}

/**
 * A dseq chain in a temporary directory, and its `ChainState`: for tests that drive one
 * operation (`buildBlock`, `executeBlock`, `commitBlock`, ...) directly with a ctx.
 */
export async function openTestChain(
  opts: { senders?: TestAccount[]; fillers?: number } = {},
): Promise<{ chain: Chain; state: ChainState; senders: TestAccount[]; close(): Promise<void> }> {
  const senders = opts.senders ?? testAccounts(4, "op-tests");
  const dataDir = await mkdtemp(join(tmpdir(), "l2exec-op-"));
  const chain = await createChain({
    dataDir,
    chainConfig: testChainConfig({ senders, fillers: opts.fillers ?? 10 }),
    syncWrites: false,
  });
  const state = (chain as unknown as { state: ChainState }).state;
  return {
    chain,
    state,
    senders,
    close: async () => {
      await chain.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A LevelDB stand-in that reads through to `db` and throws on any write. */
export function readOnlyDb(db: ChainLevel): ChainLevel {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "batch" || prop === "put" || prop === "del") {
        return () => {
          throw new Error(`unexpected write: ${String(prop)}`);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
