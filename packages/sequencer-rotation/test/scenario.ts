// A fixed scenario (faults, stake changes, irregular block times) whose full outcome is compared
// across processes by test/determinism.test.ts.
import { createHash } from "node:crypto";
import { createRotationParams, createRotationSchedule, type StakeChange } from "../src/index.ts";
import { commitNext, GENESIS_HASH, lockChange, record, TOKEN, toJson } from "./chain.ts";

export type ScenarioResult = {
  outcomesSha256: string;
  snapshotSha256: string;
  proposers: string;
  reelections: number;
  checkpoints: number;
  totalPaid: string;
  nextHeight: number;
};

export function runScenario(blocks = 3_000): ScenarioResult {
  const params = createRotationParams({
    spanLength: 20,
    rewardPeriodBlocks: 500,
    checkpointIntervalBlocks: 200,
  });
  const s = createRotationSchedule({
    params,
    genesis: {
      records: [
        record(1, 20_000n),
        record(2, 35_000n),
        record(3, 100_000n),
        record(4, 180_000n),
        record(5, 64_000n),
      ],
      hash: GENESIS_HASH,
      timestamp: 1_700_000_000,
    },
  });
  const changes = new Map<number, StakeChange[]>([
    [333, [lockChange(6, 77_000n)]],
    [901, [{ kind: "unlockStart", id: 2 }]],
    [1_402, [{ kind: "increase", id: 1, amount: 50_000n * TOKEN }]],
    [2_222, [lockChange(7, 20_000n), { kind: "withdraw", id: 4, amount: 100_000n * TOKEN }]],
  ]);
  const outcomes = [];
  const proposers: string[] = [];
  for (let h = 1; h <= blocks; h++) {
    const stakeChanges = changes.get(h);
    const { block, outcome } = commitNext(s, {
      timestamp: 1_700_000_000 + h * 2 + Math.floor(h / 9),
      // Sequencer 3 is down for a stretch; other proposers flake now and then.
      offline: (p, height, round) =>
        (p === record(3, 0n).signer && height > 1_000 && height < 1_600) ||
        (round < 2 && (height * 31 + round * 7 + Number.parseInt(p.slice(-3), 16)) % 13 === 0),
      ...(stakeChanges ? { stakeChanges } : {}),
    });
    outcomes.push(outcome);
    proposers.push(`${block.round}:${block.proposer.slice(-4)}`);
  }
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  return {
    outcomesSha256: sha(toJson(outcomes)),
    snapshotSha256: sha(toJson(s.snapshot())),
    proposers: sha(proposers.join(",")),
    reelections: outcomes.filter((o) => o.reelection).length,
    checkpoints: outcomes.filter((o) => o.checkpoint).length,
    totalPaid: s.totalRewardsPaid().toString(),
    nextHeight: s.nextHeight,
  };
}
