import type { Block, BlockHeader } from "@ethereumjs/block";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { getMerkleStateProof, type Proof } from "@ethereumjs/statemanager";
import {
  type Account,
  bytesToHex,
  createAddressFromString,
  hexToBytes,
  setLengthLeft,
} from "@ethereumjs/util";
import { type BlockReadContext, requireBlock } from "./blockReads.ts";
import {
  type CallArgs,
  type CallOptions,
  type CallResult,
  call,
  estimateGas,
  type StateOverrides,
} from "./calls.ts";
import type { ChainState } from "./chainState.ts";
import { type AccountInfo, isPending, type StateRef } from "./chainTypes.ts";
import type { Hex } from "./receipts.ts";
import { openStateView, type StateView } from "./stateView.ts";
import { canonicalKey } from "./store.ts";

/** Reads of account state at a committed block or a pending state, and calls on it. */

export type StateReadContext = BlockReadContext & Pick<ChainState, "store" | "headView">;

/**
 * A state view at `ref`. Plain reads (`readOnly`) of the latest head share one view and its
 * account cache (the txpool asks for nonces and balances of every incoming tx); calls with
 * overrides get a fresh one.
 */
export async function stateAt(
  ctx: StateReadContext,
  ref: StateRef | undefined,
  readOnly = false,
): Promise<{ view: StateView; block: Block }> {
  if (isPending(ref)) {
    const view = openStateView(ref.block.common, ctx.store, ref.block.header.stateRoot, ref.overlay);
    return { view, block: ref.block };
  }
  const block = await requireBlock(ctx, ref ?? "latest");
  if (readOnly && block === ctx.heads.latest) {
    const hash = bytesToHex(block.hash());
    if (ctx.headView?.hash !== hash) {
      ctx.headView = { hash, view: openStateView(block.common, ctx.store, block.header.stateRoot) };
    }
    return { view: ctx.headView.view, block };
  }
  return { view: openStateView(block.common, ctx.store, block.header.stateRoot), block };
}

export async function getAccount(
  ctx: StateReadContext,
  address: Hex,
  at?: StateRef,
): Promise<AccountInfo | undefined> {
  const { view } = await stateAt(ctx, at, true);
  const account: Account | undefined = await view.stateManager.getAccount(createAddressFromString(address));
  if (account === undefined) return undefined;
  return {
    nonce: account.nonce,
    balance: account.balance,
    codeHash: bytesToHex(account.codeHash),
    storageRoot: bytesToHex(account.storageRoot),
  };
}

export async function getCode(ctx: StateReadContext, address: Hex, at?: StateRef): Promise<Uint8Array> {
  const { view } = await stateAt(ctx, at, true);
  return view.stateManager.getCode(createAddressFromString(address));
}

/** Storage slot value, left-padded to 32 bytes. */
export async function getStorageAt(
  ctx: StateReadContext,
  address: Hex,
  slot: Hex | bigint,
  at?: StateRef,
): Promise<Uint8Array> {
  const { view } = await stateAt(ctx, at, true);
  const key = setLengthLeft(
    typeof slot === "bigint" ? hexToBytes(`0x${slot.toString(16).padStart(64, "0")}`) : hexToBytes(slot),
    32,
  );
  const addr = createAddressFromString(address);
  if ((await view.stateManager.getAccount(addr)) === undefined) return new Uint8Array(32);
  return setLengthLeft(await view.stateManager.getStorage(addr, key), 32);
}

/** EIP-1186 proof (eth_getProof). */
export async function getProof(
  ctx: StateReadContext,
  address: Hex,
  slots: Hex[],
  at?: StateRef,
): Promise<Proof> {
  const { view } = await stateAt(ctx, at);
  return getMerkleStateProof(
    view.stateManager,
    createAddressFromString(address),
    slots.map((s) => setLengthLeft(hexToBytes(s), 32)),
  );
}

/** eth_call on a committed block or a pending state, with optional state overrides. */
export async function callAt(
  ctx: StateReadContext,
  args: CallArgs,
  at?: StateRef,
  overrides?: StateOverrides,
  opts?: CallOptions,
): Promise<CallResult> {
  const { view, block } = await stateAt(ctx, at);
  return call(
    {
      common: block.common,
      stateManager: view.stateManager,
      block,
      blockchain: callBlockchain(ctx, block.header),
    },
    args,
    overrides,
    opts,
  );
}

/** eth_estimateGas (geth's search); throws with `data` = revert data when the call fails. */
export async function estimateGasAt(
  ctx: StateReadContext,
  args: CallArgs,
  at?: StateRef,
  overrides?: StateOverrides,
): Promise<bigint> {
  const { view, block } = await stateAt(ctx, at);
  return estimateGas(
    {
      common: block.common,
      stateManager: view.stateManager,
      block,
      blockchain: callBlockchain(ctx, block.header),
    },
    args,
    overrides,
  );
}

/** BLOCKHASH for calls: the call's own block, then the canonical chain. */
function callBlockchain(ctx: Pick<ChainState, "db">, head: BlockHeader): EVMMockBlockchainInterface {
  const bc: EVMMockBlockchainInterface = {
    getBlock: async (n: number) => {
      const hash = BigInt(n) === head.number ? head.hash() : await ctx.db.get(canonicalKey(BigInt(n)));
      if (hash === undefined) throw new Error(`unknown block ${n}`);
      return { hash: () => hash };
    },
    putBlock: async () => {},
    shallowCopy: () => bc,
  };
  return bc;
}
