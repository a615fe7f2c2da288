// N validators in one process over an immediate in-memory network (setImmediate, no delay),
// real clock, empty blocks. File WAL and guard in `dir` when given, in memory otherwise.
import { join } from "node:path";
import { bytesToHex, type Hex, uintToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import {
  type Block,
  type ConsensusApp,
  ConsensusDriver,
  createCachedVerifier,
  createKeySigner,
  createStaticValidatorSource,
  DoubleSignGuard,
  FileWal,
  fileGuardStore,
  MemoryWal,
  memoryGuardStore,
  ValidatorSet,
  type Wal,
} from "../src/index.ts";

export const CHAIN_ID = 901n;

export function emptyBlock(height: number): Block {
  const payload = uintToBytes(height, 8);
  return { hash: bytesToHex(keccak256(payload)), payload };
}

export type Cluster = {
  drivers: ConsensusDriver[];
  stop(): Promise<void>;
};

export async function startCluster(n: number, dir?: string): Promise<Cluster> {
  const keys = Array.from({ length: n }, (_, i) => keccak256(uintToBytes(BigInt(i + 1), 32)));
  const signers = keys.map((k) => createKeySigner(k));
  const set = new ValidatorSet(signers.map((s) => ({ publicKey: s.publicKey, power: 10 })));
  const source = createStaticValidatorSource(set, "roundRobin");
  const drivers: ConsensusDriver[] = [];
  const wals: Wal[] = [];
  const blocks = new Map<Hex, Block>();
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
    const wal = dir ? await FileWal.open(join(dir, `wal-${i}`)) : new MemoryWal();
    wals.push(wal);
    const guardStore = dir ? fileGuardStore(join(dir, `guard-${i}.json`)) : memoryGuardStore();
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID },
      {
        app,
        validators: source,
        network: {
          broadcast: (msg) => {
            for (const d of drivers) if (d !== driver) setImmediate(() => d.receive(msg));
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
        wal,
        signer: signers[i]!,
        guard: await DoubleSignGuard.open(guardStore),
        verify: createCachedVerifier(),
      },
    );
    drivers.push(driver);
  }
  for (const d of drivers) await d.start(1);
  return {
    drivers,
    async stop() {
      for (const d of drivers) await d.stop();
      for (const w of wals) await w.close();
    },
  };
}
