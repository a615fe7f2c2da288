import { describe, expect, it } from "vitest";
import { recipientOf, TOKEN } from "../test/chain.ts";
import { defaultRotationParams } from "./params.ts";
import { encodeRewardCheckpoint, RewardLedger, rewardCheckpointHash, rewardPerBlock } from "./rewards.ts";

describe("reward per block", () => {
  const params = defaultRotationParams;
  const year = BigInt(params.secondsPerYear);

  it("pays the target rate over a year of nominal 2 s blocks, at most 1 wei per block short", () => {
    for (const stake of [1n, 20_000n * TOKEN, 1_234_567n * TOKEN + 89n, 10n ** 30n]) {
      const rpb = rewardPerBlock(stake, { seconds: 2n, blocks: 1n }, params);
      const blocksPerYear = year / 2n;
      const target = (stake * 2_000n) / 10_000n; // 20%
      expect(rpb * blocksPerYear <= target).toBe(true);
      expect(target - rpb * blocksPerYear).toBeLessThanOrEqual(blocksPerYear);
    }
  });

  it("scales with the observed block time: slower blocks earn more each", () => {
    const stake = 500_000n * TOKEN;
    const nominal = rewardPerBlock(stake, { seconds: 1_209_600n, blocks: 604_800n }, params);
    const slow = rewardPerBlock(stake, { seconds: 1_512_000n, blocks: 604_800n }, params); // 2.5 s
    expect(nominal).toBe(rewardPerBlock(stake, { seconds: 2n, blocks: 1n }, params));
    // 2.5 / 2 = 1.25x: 4 * slow and 5 * nominal differ by rounding only (less than 5 wei).
    const gap = slow * 4n - nominal * 5n;
    expect(gap > -5n && gap < 5n).toBe(true);
    expect(slow > nominal).toBe(true);
    // 500k tokens at 20%: 100k tokens a year, 15,768,000 blocks -> 6.3419...e15 wei each.
    expect(nominal).toBe(6_341_958_396_752_917n);
  });

  it("refuses a non-positive block rate", () => {
    expect(() => rewardPerBlock(1n, { seconds: 0n, blocks: 1n }, params)).toThrow(/rate/);
  });
});

describe("reward ledger and checkpoints", () => {
  it("settles accrued rewards into checkpoints with cumulative totals", () => {
    const ledger = new RewardLedger();
    ledger.credit(2, recipientOf(2), 5n);
    ledger.credit(1, recipientOf(1), 3n);
    ledger.credit(2, recipientOf(2), 5n);
    expect(ledger.accrued(2)).toBe(10n);
    const cp0 = ledger.checkpoint(10);
    expect(cp0).toEqual({
      index: 0,
      fromHeight: 1,
      toHeight: 10,
      entries: [
        { id: 1, recipient: recipientOf(1), amount: 3n, cumulative: 3n },
        { id: 2, recipient: recipientOf(2), amount: 10n, cumulative: 10n },
      ],
      total: 13n,
    });
    expect(ledger.accrued(2)).toBe(0n);
    ledger.credit(2, recipientOf(7), 4n);
    const cp1 = ledger.checkpoint(20);
    expect(cp1.entries).toEqual([{ id: 2, recipient: recipientOf(7), amount: 4n, cumulative: 14n }]);
    expect([cp1.index, cp1.fromHeight, cp1.toHeight]).toEqual([1, 11, 20]);
    expect(ledger.earned(2)).toBe(14n);
    expect(ledger.totalPaid()).toBe(17n);
    expect(() => ledger.checkpoint(20)).toThrow(/forward/);
    const restored = RewardLedger.fromSnapshot(structuredClone(ledger.snapshot()));
    expect(restored.snapshot()).toEqual(ledger.snapshot());
  });

  it("encodes checkpoints canonically for signing", () => {
    const cp = {
      index: 1,
      fromHeight: 11,
      toHeight: 20,
      entries: [{ id: 2, recipient: recipientOf(2), amount: 4n, cumulative: 14n }],
      total: 4n,
    };
    const bytes = encodeRewardCheckpoint(cp);
    const domain = "dseq/sequencer-rotation/reward-checkpoint/v1".length;
    expect(bytes.length).toBe(domain + 8 + 8 + 8 + 4 + (8 + 20 + 32 + 32));
    expect(Buffer.from(bytes.subarray(domain, domain + 28)).toString("hex")).toBe(
      "0000000000000001" + "000000000000000b" + "0000000000000014" + "00000001",
    );
    expect(rewardCheckpointHash(cp)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(rewardCheckpointHash({ ...cp, total: 4n, entries: [{ ...cp.entries[0]!, amount: 5n }] })).not.toBe(
      rewardCheckpointHash(cp),
    );
  });
});
