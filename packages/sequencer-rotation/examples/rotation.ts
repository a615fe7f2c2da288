// Three sequencers, 5-block spans. The first span's sequencer goes offline at height 2: rounds
// >= 1 keep the chain going (CometBFT order), and after 3 missed round-0 heights the rest of
// its span is re-drawn among the others. Rewards accrue per block and settle every 10 blocks.
import { keccak_256 } from "@noble/hashes/sha3.js";
import {
  type Address,
  createRotationParams,
  createRotationSchedule,
  type StakeRecord,
} from "../src/index.ts";

const TOKEN = 10n ** 18n;
const keccak = (text: string) =>
  `0x${Buffer.from(keccak_256(new TextEncoder().encode(text))).toString("hex")}` as const;
const addr = (n: number): Address => `0x${n.toString(16).padStart(40, "0")}`;

const records: StakeRecord[] = [1, 2, 3].map((id) => ({
  id,
  owner: addr(0xa0 + id),
  signer: addr(0x50 + id),
  signerPubkey: `0x${"ab".repeat(64)}`,
  locked: [0n, 30_000n, 60_000n, 150_000n][id]! * TOKEN, // the last is capped at 100,000
  status: "active",
  rewardRecipient: addr(0xf0 + id),
}));

const schedule = createRotationSchedule({
  params: createRotationParams({ spanLength: 5, checkpointIntervalBlocks: 10 }),
  genesis: { records, hash: keccak("example genesis"), timestamp: 1_700_000_000 },
});

const first = schedule.currentSpan();
console.log(
  `span 0 (heights ${first.startHeight}-${first.endHeight}) sequencer ${first.elections[0]!.sequencer}`,
);
for (const v of first.validatorSet.validators) console.log(`  validator ${v.address} power ${v.power}`);

const down = first.elections[0]!.sequencer;
for (let height = 1; height <= 10; height++) {
  let round = 0;
  // A real node learns this from consensus; here the downed sequencer never proposes.
  while (height >= 2 && schedule.proposerFor(height, round) === down) round++;
  const proposer = schedule.proposerFor(height, round);
  const outcome = schedule.applyBlock({
    height,
    hash: keccak(`block ${height}`),
    round,
    proposer,
    timestamp: 1_700_000_000 + height * 2 + round,
  });
  console.log(
    `height ${height} committed in round ${round} by ${proposer}, reward ${outcome.reward.amount} wei`,
  );
  if (outcome.reelection) {
    const r = outcome.reelection;
    console.log(
      `re-election at height ${r.atHeight}: ${r.replaced} replaced by ${r.sequencer} from ${r.fromHeight}`,
    );
  }
  if (outcome.spanStarted) {
    const s = outcome.spanStarted;
    console.log(
      `span ${s.index} (heights ${s.startHeight}-${s.endHeight}) sequencer ${s.elections[0]!.sequencer}`,
    );
  }
  if (outcome.checkpoint) {
    const cp = outcome.checkpoint;
    console.log(`checkpoint ${cp.index} heights ${cp.fromHeight}-${cp.toHeight} total ${cp.total} wei`);
    for (const e of cp.entries) console.log(`  sequencer ${e.id} -> ${e.recipient}: ${e.amount} wei`);
  }
}
console.log(`reward per block now ${schedule.rewardPerBlock()} wei; paid ${schedule.totalRewardsPaid()} wei`);
