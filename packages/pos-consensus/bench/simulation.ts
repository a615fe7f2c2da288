// The consensus simulation of `pnpm bench wan` (issue #22): N validators in one process, every
// message delivered to every other validator after a simulated one-way latency, real signing
// and verification, in-memory WAL and guard, empty blocks, heights back to back (no slot).
// It shows how the cost of a height grows with N: heights/s, and messages per height (each
// delivery to one validator is one message: a broadcast to N-1 peers counts N-1).
import { type Hex, uintToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import {
  type Block,
  type ConsensusApp,
  ConsensusDriver,
  createCachedVerifier,
  createKeySigner,
  createStaticValidatorSource,
  DoubleSignGuard,
  MemoryWal,
  memoryGuardStore,
  ValidatorSet,
} from "../src/index.ts";
import { CHAIN_ID, emptyBlock } from "./localCluster.ts";

export type SimulationResult = {
  validators: number;
  oneWayMs: number;
  heights: number;
  seconds: number;
  heightsPerS: number;
  messagesPerHeight: number;
  broadcastsPerHeight: number;
};

/**
 * Runs until `minHeights` heights past a 2-height warm-up are committed on validator 0 and at
 * least `minSeconds` passed (or `maxSeconds`: whatever was reached by then).
 */
export async function simulate(
  n: number,
  oneWayMs: number,
  opts: { minHeights?: number; minSeconds?: number; maxSeconds?: number } = {},
): Promise<SimulationResult> {
  const minHeights = opts.minHeights ?? 5;
  const minSeconds = opts.minSeconds ?? 5;
  const maxSeconds = opts.maxSeconds ?? 60;
  const signers = Array.from({ length: n }, (_, i) =>
    createKeySigner(keccak256(uintToBytes(BigInt(i + 1), 32))),
  );
  const set = new ValidatorSet(signers.map((s) => ({ publicKey: s.publicKey, power: 10 })));
  const source = createStaticValidatorSource(set, "roundRobin");
  const drivers: ConsensusDriver[] = [];
  const blocks = new Map<Hex, Block>();
  let delivered = 0;
  let broadcasts = 0;
  let running = true;
  const timers = new Set<NodeJS.Timeout>();
  for (let i = 0; i < n; i++) {
    const app: ConsensusApp = {
      propose: async (height) => {
        const b = emptyBlock(height);
        blocks.set(b.hash, b);
        return b;
      },
      validate: async (height, block) =>
        block.hash === emptyBlock(height).hash
          ? { valid: true }
          : { valid: false, reason: "not the empty block" },
      commit: async () => {},
    };
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID },
      {
        app,
        validators: source,
        network: {
          broadcast: (msg) => {
            if (!running) return;
            broadcasts++;
            // one timer per broadcast delivers to every peer: the same latency for each
            const t = setTimeout(() => {
              timers.delete(t);
              if (!running) return;
              for (const d of drivers) {
                if (d === driver) continue;
                delivered++;
                d.receive(msg);
              }
            }, oneWayMs);
            timers.add(t);
          },
        },
        fetcher: {
          fetchBlock: async (_h, hash) => blocks.get(hash),
          fetchCommitted: async (height) => {
            for (const d of drivers) {
              const c = d.recentCommit(height);
              if (c) return c;
            }
            return undefined;
          },
        },
        wal: new MemoryWal(),
        signer: signers[i] as ReturnType<typeof createKeySigner>,
        guard: await DoubleSignGuard.open(memoryGuardStore()),
        verify: createCachedVerifier(),
      },
    );
    drivers.push(driver);
  }
  const warmup = 2;
  let startAt = 0;
  let startDelivered = 0;
  let startBroadcasts = 0;
  let last = 0;
  let lastAt = 0;
  const first = drivers[0] as ConsensusDriver;
  const done = new Promise<void>((resolve) => {
    const hard = setTimeout(resolve, maxSeconds * 1000);
    first.events.on("consensus.committed", ({ height }) => {
      const now = performance.now();
      if (height === warmup) {
        startAt = now;
        startDelivered = delivered;
        startBroadcasts = broadcasts;
      }
      if (height > warmup) {
        last = height;
        lastAt = now;
        if (height - warmup >= minHeights && now - startAt >= minSeconds * 1000) {
          clearTimeout(hard);
          resolve();
        }
      }
    });
  });
  for (const d of drivers) await d.start(1);
  await done;
  running = false;
  for (const t of timers) clearTimeout(t);
  for (const d of drivers) await d.stop();
  const heights = Math.max(0, last - warmup);
  const seconds = heights > 0 ? (lastAt - startAt) / 1000 : maxSeconds;
  return {
    validators: n,
    oneWayMs,
    heights,
    seconds,
    heightsPerS: heights / seconds,
    messagesPerHeight: heights > 0 ? (delivered - startDelivered) / heights : Number.NaN,
    broadcastsPerHeight: heights > 0 ? (broadcasts - startBroadcasts) / heights : Number.NaN,
  };
}

export function describeSimulation(r: SimulationResult): string {
  return `  ${String(r.validators).padStart(3)} validators, ${r.oneWayMs} ms one way: ${r.heightsPerS.toFixed(2)} heights/s (${r.heights} heights in ${r.seconds.toFixed(1)} s), ${r.messagesPerHeight.toFixed(0)} messages/height (${r.broadcastsPerHeight.toFixed(1)} broadcasts)`;
}

// `bash scripts/env.sh node packages/pos-consensus/bench/simulation.ts 4 7 21`: a quick look.
if (import.meta.url === `file://${process.argv[1]}`) {
  const ns = process.argv.slice(2).map(Number);
  for (const n of ns.length > 0 ? ns : [4, 7]) console.log(describeSimulation(await simulate(n, 50)));
}
