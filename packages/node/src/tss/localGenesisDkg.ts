import type { Hex, Logger } from "@dseq/common";
import type { ScryptParams } from "@dseq/mpc-tss";
import type { ChainSpec } from "../chainSpec.ts";
import { runGenesisDkg } from "./genesisDkg.ts";
import { genesisTssValidators } from "./genesisSet.ts";
import { startLocalTssNet } from "./localTssNet.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";

export type LocalGenesisDkgMember = {
  /** The validator's sequencer key (its party key). Never logged. */
  privateKey: Uint8Array;
  /** Its node data dir: the share is sealed into `<dataDir>/tss/`. */
  dataDir: string;
  /** Its keystore password (seals the share). Never logged. */
  password: string;
};

/**
 * The genesis DKG of a network whose validator keys are all on one machine (the devnet, ADR
 * 0155): one libp2p host per genesis validator on 127.0.0.1, each running its own
 * `runGenesisDkg` with its own key, data dir and password, exactly what separate operators run
 * over the internet (ADR 0152). Returns the group key to deploy the inbox with.
 */
export async function runLocalGenesisDkg(
  spec: ChainSpec,
  members: readonly LocalGenesisDkgMember[],
  opts: { scrypt?: ScryptParams; deadlineMs?: number; logger?: Logger } = {},
): Promise<{ groupKey: Hex; validators: number; threshold: number; ms: number }> {
  const started = Date.now();
  const validators = genesisTssValidators(spec);
  const chainId = BigInt(spec.chainId);
  const net = await startLocalTssNet(
    members.length,
    chainId,
    true,
    members.map((m) => m.privateKey),
  );
  try {
    const results = await Promise.all(
      members.map((m, i) =>
        runGenesisDkg(
          {
            chainId,
            validators,
            dataDir: m.dataDir,
            password: m.password,
            ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
            deadlineMs: opts.deadlineMs ?? 60_000,
          },
          {
            key: net.keys[i]!,
            transport: net.transports[i]!,
            ...(opts.logger ? { logger: opts.logger } : {}),
          },
        ),
      ),
    );
    const keys = new Set(results.map((r) => r.groupKey));
    if (keys.size !== 1)
      throw new NodeTssError(
        NodeTssErrorCode.BadValidatorSet,
        "genesis DKG members disagree on the group key",
      );
    const first = results[0]!;
    return {
      groupKey: first.groupKey,
      validators: validators.length,
      threshold: first.group.threshold,
      ms: Date.now() - started,
    };
  } finally {
    await net.stop();
  }
}
