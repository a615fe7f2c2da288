import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "@dseq/common";
import type { DevnetL1 } from "./l1.ts";
import { CHAIN_SPEC_FILE } from "./network.ts";

/** Where the devnet records its dev L1 (URLs, contract addresses, the nodes' l1 section). */
export const L1_FILE = "l1.json";

export type DevnetL1Settings = {
  /** Seconds between L1 blocks (default 1). */
  blockTimeSeconds?: number;
  /** The nodes' confirmation depth (default 2). */
  confirmations?: number;
  /** The nodes' L1 poll interval, ms (default 500). */
  pollIntervalMs?: number;
  /** LockingPool exit delay, seconds (default 60). */
  exitDelaySeconds?: number;
  /** The nodes' wait for entries they cannot verify yet, ms (node default 1,500). */
  verifyWaitMs?: number;
};

/** What `<dataDir>/l1.json` holds while an L1 devnet runs. */
/**
 * Locks every genesis validator's stake through the LockingPool (one owner account each), then
 * rewrites the chain spec's validators from what L1 holds, so the genesis set is L1's. Returns
 * the nodes' `l1` config section; its start block is after the genesis locks (the spec has them).
 */
export async function lockGenesisValidators(
  dataDir: string,
  l1: DevnetL1,
  settings: DevnetL1Settings,
): Promise<Record<string, unknown>> {
  const specPath = join(dataDir, CHAIN_SPEC_FILE);
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as {
    validators: {
      id: number;
      owner: string;
      signer: Hex;
      signerPubkey: Hex;
      locked: string;
      status: string;
      rewardRecipient: string;
    }[];
  };
  const validators = [];
  for (const v of spec.validators) {
    const id = await l1.lock(v.signer, v.signerPubkey, BigInt(v.locked));
    const s = await l1.sequencer(id);
    validators.push({
      id,
      owner: s.owner,
      signer: s.signer,
      signerPubkey: v.signerPubkey,
      locked: s.locked.toString(),
      status: s.status,
      rewardRecipient: s.rewardRecipient,
    });
  }
  spec.validators = validators;
  writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
  const d = l1.deployment;
  const section = {
    endpoints: [l1.rpcUrl],
    chainId: l1.chainId,
    lockingPool: d.lockingPool,
    depositBridge: d.depositBridge,
    batchInbox: d.batchInbox,
    startBlock: Number(await l1.blockNumber()) + 1,
    confirmations: settings.confirmations ?? 2,
    pollIntervalMs: settings.pollIntervalMs ?? 500,
    ...(settings.verifyWaitMs === undefined ? {} : { verifyWaitMs: settings.verifyWaitMs }),
  };
  writeFileSync(
    join(dataDir, L1_FILE),
    `${JSON.stringify({ rpcUrl: l1.rpcUrl, edrUrl: l1.directUrl, token: d.token, ...section }, null, 2)}\n`,
  );
  return section;
}
