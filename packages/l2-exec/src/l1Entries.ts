import type { WithdrawalData } from "@ethereumjs/util";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";

/** Kinds of L1-derived balance credits; the code is stored as the withdrawal's validatorIndex. */
export const L1EntryKind = { Deposit: 0, Reward: 1 } as const;
export type L1EntryKind = (typeof L1EntryKind)[keyof typeof L1EntryKind];

/**
 * A balance credit derived from L1 (a deposit of the gas token, a reward payout). Carried in
 * the block as an EIP-4895 withdrawal (docs/adr/0010): `index` is the global L1 entry sequence
 * number (so "exactly once" is checkable from the chain), `validatorIndex` the kind, `amount`
 * in gwei. Amounts must be whole gwei.
 */
export type L1Entry = {
  index: bigint;
  kind: L1EntryKind;
  to: `0x${string}`;
  /** In wei; must be a multiple of 1 gwei. */
  amount: bigint;
};

const GWEI = 1_000_000_000n;

export function l1EntriesToWithdrawals(entries: readonly L1Entry[]): WithdrawalData[] {
  return entries.map((e) => {
    if (e.amount < 0n || e.amount % GWEI !== 0n) {
      throw new L2ExecError(
        L2ExecErrorCode.InvalidConfig,
        "L1 entry amount must be a non-negative whole number of gwei",
        {
          details: { index: e.index.toString(), amount: e.amount.toString() },
        },
      );
    }
    return { index: e.index, validatorIndex: BigInt(e.kind), address: e.to, amount: e.amount / GWEI };
  });
}

/** The L1 entries a block carries (its withdrawals list). */
export function withdrawalsToL1Entries(
  ws: readonly { index: bigint; validatorIndex: bigint; address: { toString(): string }; amount: bigint }[],
): L1Entry[] {
  return ws.map((w) => ({
    index: w.index,
    kind: Number(w.validatorIndex) as L1EntryKind,
    to: w.address.toString() as `0x${string}`,
    amount: w.amount * GWEI,
  }));
}
