// One driver (validator 0 of four, round-robin proposers) with a recording WAL, network,
// application and fetcher: for driver tests that feed exact message sequences.
import type { Clock } from "@dseq/common";
import { createMetrics, type Metrics } from "@dseq/common";
import {
  type BlockFetcher,
  type ConsensusApp,
  ConsensusDriver,
  type ConsensusDriverOptions,
} from "../src/consensusDriver.ts";
import { DoubleSignGuard, memoryGuardStore } from "../src/doubleSignGuard.ts";
import { createKeySigner } from "../src/signer.ts";
import { type Block, type CommitCertificate, type ConsensusMessage, MsgType } from "../src/types.ts";
import { createStaticValidatorSource, type ValidatorSource } from "../src/validatorSet.ts";
import { MemoryWal, type Wal, type WalRecord } from "../src/wal.ts";
import { CHAIN_ID, makeValidators, signProposal, votesOf } from "./fixtures.ts";
import { makeSimBlock, SimClock, simTimeouts, simValidate } from "./sim.ts";

export const tv = makeValidators(4);
export const ME = 0;

export type DriverHarness = {
  driver: ConsensusDriver;
  clock: Clock;
  sent: ConsensusMessage[];
  /** Every record appended to the WAL, in order. */
  appended: WalRecord[];
  committed: Map<number, { block: Block; certificate: CommitCertificate }>;
  metrics: Metrics;
  /** Feeds the round-0 proposal of `height` and precommits of validators 1-3: decides it. */
  decide(height: number, block?: Block): Promise<void>;
};

export type HarnessOptions = {
  wal?: Wal;
  clock?: Clock;
  fetcher?: BlockFetcher;
  validators?: ValidatorSource;
  validate?: ConsensusApp["validate"];
  startTime?: ConsensusApp["startTime"];
  options?: Partial<ConsensusDriverOptions>;
};

/** A WAL that also pushes every appended record to `appended` (what the driver wrote). */
export function recordingWal(inner: Wal, appended: WalRecord[]): Wal {
  return {
    get size() {
      return inner.size;
    },
    async append(r, sync) {
      appended.push(r);
      await inner.append(r, sync);
    },
    records: () => inner.records(),
    replace: (rs) => inner.replace(rs),
    close: () => inner.close(),
  };
}

export async function makeHarness(opts: HarnessOptions = {}): Promise<DriverHarness> {
  const clock = opts.clock ?? new SimClock();
  const sent: ConsensusMessage[] = [];
  const appended: WalRecord[] = [];
  const committed = new Map<number, { block: Block; certificate: CommitCertificate }>();
  const metrics = createMetrics();
  const inner = opts.wal ?? new MemoryWal();
  const wal = recordingWal(inner, appended);
  const app: ConsensusApp = {
    propose: async (h) => makeSimBlock(h, ME, 0),
    validate: opts.validate ?? (async (h, b) => simValidate(h, b)),
    commit: async (h, block, certificate) => {
      committed.set(h, { block, certificate });
    },
    ...(opts.startTime ? { startTime: opts.startTime } : {}),
  };
  const driver = new ConsensusDriver(
    { chainId: CHAIN_ID, timeouts: simTimeouts, rebroadcastMs: 10_000, queueSize: 100, ...opts.options },
    {
      app,
      validators: opts.validators ?? createStaticValidatorSource(tv.set, "roundRobin"),
      network: { broadcast: (m) => sent.push(m) },
      fetcher: opts.fetcher ?? { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
      wal,
      signer: createKeySigner(tv.keys[ME]!),
      guard: await DoubleSignGuard.open(memoryGuardStore()),
      clock,
      metrics,
    },
  );
  const decide = async (height: number, block = makeSimBlock(height, (height + 0) % 4, 42)) => {
    const p = (height + 0) % 4;
    driver.receive({
      type: "proposal",
      proposal: signProposal(tv.keys[p]!, tv.addresses[p]!, height, 0, -1, block.hash),
      block,
    });
    for (const vote of votesOf(tv, [1, 2, 3], MsgType.Precommit, height, 0, block.hash))
      driver.receive({ type: "vote", vote });
    await driver.whenIdle();
  };
  return { driver, clock, sent, appended, committed, metrics, decide };
}

/** Inputs of kind `type` that were written to the WAL. */
export function walInputs(h: DriverHarness, type: string): WalRecord[] {
  return h.appended.filter((r) => r.kind === "input" && r.input.type === type);
}
