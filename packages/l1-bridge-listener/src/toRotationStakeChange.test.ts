import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { toRotationStakeChange } from "./toRotationStakeChange.ts";
import type { L1Event, L1StakeChange } from "./types.ts";

const l1 = {
  blockNumber: 1n,
  blockHash: `0x${"11".repeat(32)}` as Hex,
  logIndex: 0,
  transactionHash: `0x${"22".repeat(32)}` as Hex,
  address: "0x1000000000000000000000000000000000000001" as Address,
};
const A = "0xAbCdEf0000000000000000000000000000000001" as Address;
const B = "0xAbCdEf0000000000000000000000000000000002" as Address;
const stake = (change: L1StakeChange): L1Event => ({
  type: "stake",
  seq: 0,
  sequencerId: 4n,
  nonce: 1n,
  change,
  l1,
});

describe("toRotationStakeChange", () => {
  it("maps each stake kind to sequencer-rotation's shape with lower-case addresses", () => {
    expect(
      toRotationStakeChange(
        stake({
          kind: "lock",
          owner: A,
          signer: B,
          signerPubkey: "0xAB",
          amount: 9n,
          rewardRecipient: A,
          totalLocked: 9n,
        }),
      ),
    ).toEqual({
      kind: "lock",
      id: 4,
      owner: A.toLowerCase(),
      signer: B.toLowerCase(),
      signerPubkey: "0xab",
      amount: 9n,
      rewardRecipient: A.toLowerCase(),
    });
    expect(
      toRotationStakeChange(stake({ kind: "increase", amount: 2n, newAmount: 11n, totalLocked: 11n })),
    ).toEqual({ kind: "increase", id: 4, amount: 2n });
    expect(
      toRotationStakeChange(stake({ kind: "withdraw", amount: 2n, newAmount: 9n, totalLocked: 9n })),
    ).toEqual({ kind: "withdraw", id: 4, amount: 2n });
    expect(
      toRotationStakeChange(stake({ kind: "unlockStart", owner: A, unlockClaimTime: 5n, amount: 9n })),
    ).toEqual({ kind: "unlockStart", id: 4 });
    expect(
      toRotationStakeChange(stake({ kind: "unlockComplete", owner: A, amount: 9n, totalLocked: 0n })),
    ).toEqual({ kind: "unlockComplete", id: 4 });
    expect(
      toRotationStakeChange(stake({ kind: "signerUpdate", oldSigner: A, signer: B, signerPubkey: "0xCD" })),
    ).toEqual({
      kind: "signerUpdate",
      id: 4,
      signer: B.toLowerCase(),
      signerPubkey: "0xcd",
    });
    expect(
      toRotationStakeChange(stake({ kind: "rewardRecipientUpdate", oldRecipient: A, rewardRecipient: B })),
    ).toEqual({
      kind: "rewardRecipientUpdate",
      id: 4,
      rewardRecipient: B.toLowerCase(),
    });
  });

  it("has nothing for events that do not change the validator set", () => {
    expect(toRotationStakeChange(stake({ kind: "ownerChange", oldOwner: A, owner: B }))).toBeUndefined();
    expect(
      toRotationStakeChange({ type: "deposit", seq: 1, nonce: 1n, from: A, to: B, amount: 1n, l1 }),
    ).toBeUndefined();
    expect(
      toRotationStakeChange({ type: "params", seq: 1, minLock: 1n, maxLock: 2n, exitDelay: 3n, l1 }),
    ).toBeUndefined();
  });
});
