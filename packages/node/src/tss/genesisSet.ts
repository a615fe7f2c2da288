import { createRotationParams, createRotationSchedule } from "@dseq/sequencer-rotation";
import type { ChainSpec } from "../chainSpec.ts";
import { stakeRecordsOf } from "../rotation.ts";
import { spanToTssSet } from "./scheduleValidatorSource.ts";
import type { TssValidator } from "./votingPower.ts";

/**
 * The genesis (span 0) TSS set exactly as every node's schedule computes it from the chain
 * spec: the set the genesis DKG must run for, or the node would run a new DKG at start.
 */
export function genesisTssValidators(spec: ChainSpec): TssValidator[] {
  const schedule = createRotationSchedule({
    params: createRotationParams({ ...spec.rotation, blockTimeSeconds: spec.blockTimeMs / 1000 }),
    // The span-0 set does not depend on the genesis hash (only the sequencer draw does).
    genesis: {
      records: stakeRecordsOf(spec),
      hash: `0x${"00".repeat(32)}`,
      timestamp: spec.genesis.timestamp,
    },
  });
  return spanToTssSet(schedule.currentSpan()).validators;
}
