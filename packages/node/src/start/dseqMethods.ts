import type { Hex } from "@dseq/common";
import { type Json, method, type RpcServer } from "@dseq/rpc";
import type { RotationSchedule } from "@dseq/sequencer-rotation";

/** What the `dseq_` namespace reads from the node. */
export type DseqMethodsView = {
  schedule: () => RotationSchedule;
  nextHeight: () => number;
  currentSequencer: () => Hex;
  /** `dseq_syncStatus`'s answer: sync, peers, last commit, L1 when configured. */
  syncStatus: () => Record<string, unknown>;
};

const json = (v: unknown): Json =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x))) as Json;

/** Registers `dseq_syncStatus`, `dseq_validators`, `dseq_currentSequencer` and `dseq_span`. */
export function registerDseqMethods(rpc: RpcServer, view: DseqMethodsView): void {
  rpc.registry.register(
    "dseq_syncStatus",
    method([], () => json(view.syncStatus())),
  );
  rpc.registry.register(
    "dseq_validators",
    method([], () => {
      const schedule = view.schedule();
      const height = view.nextHeight();
      const set = schedule.validatorSetAt(height);
      return json({
        height,
        totalPower: set.totalPower,
        validators: set.validators.map((v) => ({
          id: v.id,
          address: v.address,
          power: v.power,
          cappedStake: v.cappedStake,
          rewardRecipient: v.rewardRecipient,
          rewards: schedule.rewardsOf(v.id),
        })),
      });
    }),
  );
  rpc.registry.register(
    "dseq_currentSequencer",
    method([], () => {
      const r = view.schedule().reelectionState();
      return json({ ...r, height: view.nextHeight(), sequencer: view.currentSequencer() });
    }),
  );
  rpc.registry.register(
    "dseq_span",
    method([], () => {
      const schedule = view.schedule();
      const s = schedule.currentSpan();
      return json({
        index: s.index,
        startHeight: s.startHeight,
        endHeight: s.endHeight,
        seedHeight: s.seedHeight,
        seed: s.seed,
        elections: s.elections,
        validators: s.validatorSet.validators.map((v) => v.address),
        rewardPerBlock: schedule.rewardPerBlock(),
      });
    }),
  );
}
