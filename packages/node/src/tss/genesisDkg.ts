import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Hex, Logger, Metrics } from "@dseq/common";
import {
  type GroupInfo,
  KeyShareStore,
  type PartyKey,
  type ScryptParams,
  type TssTransport,
} from "@dseq/mpc-tss";
import { readRotationState, writeRotationState } from "./rotationStateFile.ts";
import { runTssDkg } from "./runTssDkg.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";
import { canonicalValidators, type TssValidator, tssThreshold, validatorSetDigest } from "./votingPower.ts";

export type GenesisDkgOptions = {
  chainId: bigint;
  /** The genesis validator set (span 0), with voting power. */
  validators: readonly TssValidator[];
  /** This validator's node data dir: the share goes to `<dataDir>/tss/`. */
  dataDir: string;
  /** Its keystore password. */
  password: string;
  scrypt?: ScryptParams;
  /** Default 120 s: operators start at different moments. */
  deadlineMs?: number;
};

export type GenesisDkgModules = {
  key: PartyKey;
  transport: TssTransport;
  logger?: Logger;
  metrics?: Metrics;
};

/**
 * One genesis validator's part of the genesis DKG (ADR 0152): every genesis validator calls it
 * with the same set over the network; each gets the same group key (deploy the inbox with it)
 * and its own share sealed in `<dataDir>/tss/`, recorded as the span-0 key, so the node's
 * TssService starts with it and runs no DKG for the genesis set. Idempotent: a data dir that
 * already holds the genesis key returns it without a new DKG.
 */
export async function runGenesisDkg(
  opts: GenesisDkgOptions,
  modules: GenesisDkgModules,
): Promise<{ groupKey: Hex; group: GroupInfo }> {
  const validators = canonicalValidators(opts.validators);
  if (!validators.some((v) => v.party === modules.key.id)) {
    throw new NodeTssError(NodeTssErrorCode.BadValidatorSet, "this key is not a genesis validator");
  }
  const dir = join(opts.dataDir, "tss");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const statePath = join(dir, "state.json");
  const store = await KeyShareStore.open({
    dir: join(dir, "keys"),
    password: opts.password,
    ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
  });
  const digest = validatorSetDigest(validators);
  const state = readRotationState(statePath);
  const have = state.current ? store.byGroupKey(state.current.groupKey) : undefined;
  if (have && state.current?.epoch === 0 && state.latestSet === digest) {
    return { groupKey: have.group.groupKey, group: have.group };
  }
  if (state.current) {
    throw new NodeTssError(NodeTssErrorCode.BadValidatorSet, "data dir already holds another group key");
  }
  const threshold = tssThreshold(validators);
  const { session, result } = runTssDkg(
    {
      key: modules.key,
      transport: modules.transport,
      store,
      ...(modules.logger ? { logger: modules.logger } : {}),
      ...(modules.metrics ? { metrics: modules.metrics } : {}),
    },
    {
      chainId: opts.chainId,
      span: 0n,
      validators,
      threshold,
      attempt: 0,
      deadlineMs: opts.deadlineMs ?? 120_000,
    },
  );
  try {
    const group = await result;
    writeRotationState(statePath, {
      current: { epoch: 0, groupKey: group.groupKey, validators, threshold, holder: true },
      latestSet: digest,
    });
    // Late peers may still need our round messages: linger a moment before leaving.
    await new Promise((r) => setTimeout(r, 1_000));
    return { groupKey: group.groupKey, group };
  } finally {
    session.stop();
  }
}
