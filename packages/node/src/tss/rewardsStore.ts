import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RewardCheckpoint, RewardEntry } from "@dseq/sequencer-rotation";
import { writeFileAtomic } from "../atomicFile.ts";

const FILE = /^([0-9]{1,15})\.json$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/**
 * The reward checkpoints this node's committed chain cut (sequencer-rotation's ledger, one per
 * `checkpointIntervalBlocks`), one file each in `<dataDir>/rewards/checkpoints/`: what a signer
 * rebuilds a request from and what the submitter posts. Written once from the commit path (a
 * checkpoint never changes: it is a function of committed blocks); gaps (a crash between the
 * commit and the write) are filled by replaying the chain (`fill`).
 */
export class RewardCheckpointStore {
  private readonly byIndex = new Map<number, RewardCheckpoint>();

  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static open(dir: string): RewardCheckpointStore {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const s = new RewardCheckpointStore(dir);
    for (const name of readdirSync(dir)) {
      const m = FILE.exec(name);
      if (!m) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(join(dir, name), "utf8"));
      } catch {
        continue;
      }
      const cp = checkpointFromStored(raw);
      if (cp && cp.index === Number(m[1])) s.byIndex.set(cp.index, cp);
    }
    return s;
  }

  get(index: number): RewardCheckpoint | undefined {
    return this.byIndex.get(index);
  }

  /** Stores a checkpoint once; a second put of the same index keeps the first (it cannot differ). */
  put(cp: RewardCheckpoint): void {
    if (this.byIndex.has(cp.index)) return;
    const path = join(this.dir, `${cp.index}.json`);
    if (!existsSync(path)) writeFileAtomic(path, `${JSON.stringify(checkpointToStored(cp))}\n`);
    this.byIndex.set(cp.index, cp);
  }

  /** Indices below `count` that are missing (count = checkpoints the chain has cut so far). */
  missing(count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) if (!this.byIndex.has(i)) out.push(i);
    return out;
  }
}

type Stored = {
  index: number;
  fromHeight: number;
  toHeight: number;
  entries: { id: number; recipient: string; amount: string; cumulative: string }[];
  total: string;
};

function checkpointToStored(cp: RewardCheckpoint): Stored {
  return {
    index: cp.index,
    fromHeight: cp.fromHeight,
    toHeight: cp.toHeight,
    entries: cp.entries.map((e) => ({
      id: e.id,
      recipient: e.recipient,
      amount: e.amount.toString(),
      cumulative: e.cumulative.toString(),
    })),
    total: cp.total.toString(),
  };
}

const int = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const dec = (v: unknown): v is string => typeof v === "string" && DECIMAL.test(v);

/** Strict: a file that does not decode is ignored (and refilled from the chain). */
export function checkpointFromStored(v: unknown): RewardCheckpoint | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Partial<Stored>;
  if (!int(o.index) || !int(o.fromHeight) || !int(o.toHeight) || !dec(o.total) || !Array.isArray(o.entries))
    return undefined;
  const entries: RewardEntry[] = [];
  for (const e of o.entries) {
    if (!int(e?.id) || typeof e.recipient !== "string" || !ADDRESS.test(e.recipient)) return undefined;
    if (!dec(e.amount) || !dec(e.cumulative)) return undefined;
    entries.push({
      id: e.id,
      recipient: e.recipient as RewardEntry["recipient"],
      amount: BigInt(e.amount),
      cumulative: BigInt(e.cumulative),
    });
  }
  return { index: o.index, fromHeight: o.fromHeight, toHeight: o.toHeight, entries, total: BigInt(o.total) };
}
