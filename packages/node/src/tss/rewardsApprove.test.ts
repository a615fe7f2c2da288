import { createNoopLogger, type Hex, hexToBytes } from "@dseq/common";
import type { SignContext } from "@dseq/mpc-tss";
import { type RewardCheckpoint, RewardLedger } from "@dseq/sequencer-rotation";
import { describe, expect, it } from "vitest";
import { approveByKind, type RewardsTip, rewardsApprove } from "./rewardsApprove.ts";
import {
  checkpointFromJson,
  checkpointToJson,
  type L1RewardCheckpoint,
  rewardsDigest,
  toL1Checkpoint,
} from "./rewardsCheckpoint.ts";

const domain = { l1ChainId: 31337, pool: `0x${"55".repeat(20)}` as Hex };
const A = `0x${"a1".repeat(20)}` as Hex;
const B = `0x${"b2".repeat(20)}` as Hex;

/** Two checkpoints cut by a real ledger: blocks 1..4 and 5..8. */
function ownChain(): RewardCheckpoint[] {
  const l = new RewardLedger();
  l.credit(1, A, 10n);
  l.credit(2, B, 7n);
  l.credit(1, A, 10n);
  const first = l.checkpoint(4);
  l.credit(2, B, 7n);
  const second = l.checkpoint(8);
  return [first, second];
}

function setup(opts: { tip?: () => Promise<RewardsTip>; chain?: RewardCheckpoint[] } = {}) {
  const chain = opts.chain ?? ownChain();
  const refusals: string[] = [];
  const approve = rewardsApprove({
    domain,
    checkpoint: async (i) => chain[i],
    tip: opts.tip ?? (async () => ({ nextCheckpointId: 0n, lastRewardBlock: 0n })),
    onRefusal: (r) => refusals.push(r),
    logger: createNoopLogger(),
  });
  return { approve, refusals };
}
const sc = (context: Record<string, unknown>) => ({ sessionId: "0x01", context }) as unknown as SignContext;
const ask = (
  a: ReturnType<typeof setup>["approve"],
  cp: L1RewardCheckpoint,
  over: Record<string, unknown> = {},
) =>
  a(
    hexToBytes(rewardsDigest(domain, cp)),
    sc({ kind: "rewards", checkpoint: checkpointToJson(cp), ...over }),
  );

describe("rewardsApprove (a signer rebuilds the reward checkpoint from its own chain)", () => {
  it("signs the next checkpoint exactly as its own ledger cut it", async () => {
    const [first] = ownChain();
    const cp = toL1Checkpoint(first!);
    expect(cp).toEqual({
      checkpointId: 0n,
      fromBlock: 1n,
      toBlock: 4n,
      seqIds: [1n, 2n],
      amounts: [20n, 7n],
    });
    const { approve, refusals } = setup();
    expect(await ask(approve, cp)).toBe(true);
    expect(refusals).toEqual([]);
  });

  it("refuses any change to amounts, ids or range, even with a matching digest", async () => {
    const cp = toL1Checkpoint(ownChain()[0]!);
    const { approve, refusals } = setup();
    expect(await ask(approve, { ...cp, amounts: [21n, 7n] })).toBe(false);
    expect(await ask(approve, { ...cp, seqIds: [1n, 3n] })).toBe(false);
    expect(await ask(approve, { ...cp, seqIds: [1n], amounts: [20n] })).toBe(false);
    expect(await ask(approve, { ...cp, toBlock: 5n })).toBe(false);
    expect(refusals).toEqual(["mismatch", "mismatch", "mismatch", "mismatch"]);
  });

  it("refuses a checkpoint its chain has not cut, and one that is not the next on L1", async () => {
    const [first, second] = ownChain().map(toL1Checkpoint);
    const { approve, refusals } = setup({
      chain: ownChain().slice(0, 1),
      tip: async () => ({ nextCheckpointId: 1n, lastRewardBlock: 4n }),
    });
    expect(await ask(approve, second!)).toBe(false); // not cut here
    expect(await ask(approve, first!)).toBe(false); // already on L1
    expect(refusals).toEqual(["not_committed", "not_next"]);
    const wrongFrom = setup({ tip: async () => ({ nextCheckpointId: 1n, lastRewardBlock: 3n }) });
    expect(await ask(wrongFrom.approve, second!)).toBe(false);
    expect(wrongFrom.refusals).toEqual(["not_next"]);
  });

  it("refuses when it cannot read L1, a wrong digest, another kind, a malformed checkpoint", async () => {
    const cp = toL1Checkpoint(ownChain()[0]!);
    const down = setup({ tip: async () => Promise.reject(new Error("ECONNREFUSED")) });
    expect(await ask(down.approve, cp)).toBe(false);
    expect(down.refusals).toEqual(["l1"]);
    const { approve, refusals } = setup();
    const other = { ...domain, pool: `0x${"66".repeat(20)}` as Hex };
    expect(
      await approve(
        hexToBytes(rewardsDigest(other, cp)),
        sc({ kind: "rewards", checkpoint: checkpointToJson(cp) }),
      ),
    ).toBe(false);
    expect(await ask(approve, cp, { kind: "batch" })).toBe(false);
    expect(await ask(approve, cp, { checkpoint: { ...checkpointToJson(cp), amounts: ["20", "-7"] } })).toBe(
      false,
    );
    expect(refusals).toEqual(["digest", "kind", "bad_checkpoint"]);
  });

  it("decodes a request's checkpoint strictly", () => {
    const good = checkpointToJson(toL1Checkpoint(ownChain()[0]!));
    expect(checkpointFromJson(good)).toBeDefined();
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, fromBlock: 1 },
      { ...good, fromBlock: "01" },
      { ...good, amounts: ["1"] },
      { ...good, seqIds: Array(1025).fill("1"), amounts: Array(1025).fill("1") },
      { ...good, toBlock: (1n << 256n).toString() },
      null,
      [good],
    ])
      expect(checkpointFromJson(bad)).toBeUndefined();
  });

  it("approveByKind: a rewards request never reaches the batch policy and back", async () => {
    const cp = toL1Checkpoint(ownChain()[0]!);
    const { approve: rewards } = setup();
    const seen: string[] = [];
    const batch = async (_m: Uint8Array, c: SignContext) => {
      seen.push(String(c.context.kind));
      return c.context.kind === "batch";
    };
    const both = approveByKind(batch, rewards);
    expect(await ask(both, cp)).toBe(true);
    expect(seen).toEqual([]);
    // Any other kind goes to the batch policy (the real one rebuilds a header and refuses a rewards digest).
    expect(await both(hexToBytes(rewardsDigest(domain, cp)), sc({ kind: "batch" }))).toBe(true);
    expect(seen).toEqual(["batch"]);
    expect(approveByKind(batch, undefined)).toBe(batch);
  });
});
