import type { Block, BlockHeader } from "@ethereumjs/block";
import { type Address, createAddressFromString, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import type { Hex } from "./receipts.ts";

/**
 * geth's block override set (`eth_call`'s fourth parameter, `eth_simulateV1`'s `blockOverrides`):
 * the parts of the block environment a call sees, replaced for that call only.
 */
export type BlockOverrides = {
  number?: bigint;
  /** Timestamp, seconds. */
  time?: bigint;
  gasLimit?: bigint;
  feeRecipient?: Hex;
  prevRandao?: Hex;
  baseFeePerGas?: bigint;
};

/**
 * The environment of the block after `parent`, as the proposer will build it: number + 1,
 * timestamp exactly `parent + blockTime` (ADR 0093), the EIP-1559 base fee of the child, the
 * parent's gas limit and coinbase (a span keeps its sequencer, so the coinbase is right for
 * all but the first block of a span; ADR 0131).
 */
export function nextBlockOverrides(parent: BlockHeader, blockTimeSec: bigint): BlockOverrides {
  const out: BlockOverrides = {
    number: parent.number + 1n,
    time: parent.timestamp + blockTimeSec,
    gasLimit: parent.gasLimit,
  };
  if (parent.common.isActivatedEIP(1559)) out.baseFeePerGas = parent.calcNextBaseFee();
  return out;
}

/**
 * `block` with `o` applied, for a call's environment. The copy inherits everything else
 * (hardfork, blob fields, methods) from the original header, so no `Common` is copied: a
 * call whose overridden number crosses a fork boundary still runs with the base block's fork.
 */
export function withBlockOverrides(block: Block, o: BlockOverrides | undefined): Block {
  if (o === undefined || Object.keys(o).length === 0) return block;
  const header = Object.create(block.header) as BlockHeader;
  const set = (name: string, value: unknown): void => {
    Object.defineProperty(header, name, { value, enumerable: true });
  };
  if (o.number !== undefined) set("number", o.number);
  if (o.time !== undefined) set("timestamp", o.time);
  if (o.gasLimit !== undefined) set("gasLimit", o.gasLimit);
  if (o.feeRecipient !== undefined) set("coinbase", createAddressFromString(o.feeRecipient) as Address);
  if (o.prevRandao !== undefined) {
    // The header's `prevRandao` getter returns `mixHash`.
    set("mixHash", setLengthLeft(hexToBytes(o.prevRandao), 32));
  }
  if (o.baseFeePerGas !== undefined) set("baseFeePerGas", o.baseFeePerGas);
  const copy = Object.create(block) as Block;
  Object.defineProperty(copy, "header", { value: header, enumerable: true });
  return copy;
}
