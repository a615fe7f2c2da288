import { closeSync, fsyncSync, openSync } from "node:fs";
import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { bytesToHex, equalBytes, type Hex, hexToBytes } from "@dseq/common";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import { MsgType } from "./types.ts";

/** Order of the signing steps within one round: proposal before prevote before precommit. */
export const SignStep = { Proposal: 1, Prevote: 2, Precommit: 3 } as const;
export type SignStep = (typeof SignStep)[keyof typeof SignStep];

export function signStepOf(msgType: number): SignStep {
  if (msgType === MsgType.Proposal) return SignStep.Proposal;
  if (msgType === MsgType.Prevote) return SignStep.Prevote;
  if (msgType === MsgType.Precommit) return SignStep.Precommit;
  throw new TypeError(`not a signable message type: ${msgType}`);
}

/** The last thing this validator signed. */
export type LastSigned = {
  readonly height: number;
  readonly round: number;
  readonly step: SignStep;
  readonly signBytes: Hex;
};

/** Where the guard keeps its state. Must be durable when `save` resolves. */
export interface GuardStore {
  load(): Promise<LastSigned | undefined>;
  save(last: LastSigned): Promise<void>;
}

export class DoubleSignError extends ConsensusError {
  constructor(message: string, details: Record<string, unknown>) {
    super(ConsensusErrorCode.DoubleSignRefused, message, { details });
    this.name = "DoubleSignError";
  }
}

/**
 * Refuses to sign anything lower than, or different from, what was signed last (by height,
 * round, step), even across restarts: the new (height, round, step, sign bytes) is saved
 * durably before the signer is allowed to sign. Signing the very same bytes again is
 * allowed (a restart that replays its WAL asks again for what it had already signed).
 */
export class DoubleSignGuard {
  private last: LastSigned | undefined;
  private readonly store: GuardStore;

  private constructor(store: GuardStore, last: LastSigned | undefined) {
    this.store = store;
    this.last = last;
  }

  static async open(store: GuardStore): Promise<DoubleSignGuard> {
    return new DoubleSignGuard(store, await store.load());
  }

  get lastSigned(): LastSigned | undefined {
    return this.last;
  }

  /** Resolves when signing `bytes` at (height, round, step) is safe and recorded; throws otherwise. */
  async authorize(height: number, round: number, step: SignStep, bytes: Uint8Array): Promise<void> {
    const last = this.last;
    if (last) {
      const cmp = compareHrs(height, round, step, last);
      if (cmp < 0) {
        throw new DoubleSignError("refusing to sign below the last signed (height, round, step)", {
          height,
          round,
          step,
          last: { height: last.height, round: last.round, step: last.step },
        });
      }
      if (cmp === 0) {
        if (equalBytes(hexToBytes(last.signBytes), bytes)) return;
        throw new DoubleSignError(
          "refusing to sign conflicting data for the last signed (height, round, step)",
          {
            height,
            round,
            step,
          },
        );
      }
    }
    const next: LastSigned = { height, round, step, signBytes: bytesToHex(bytes) };
    await this.store.save(next);
    this.last = next;
  }
}

function compareHrs(height: number, round: number, step: number, last: LastSigned): number {
  if (height !== last.height) return height < last.height ? -1 : 1;
  if (round !== last.round) return round < last.round ? -1 : 1;
  if (step !== last.step) return step < last.step ? -1 : 1;
  return 0;
}

/**
 * The guard's state in one small JSON file, replaced atomically: write a temp file, fsync
 * it, rename it over the old one, fsync the directory.
 */
export function fileGuardStore(path: string): GuardStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
      const v = JSON.parse(text) as LastSigned;
      if (
        !Number.isSafeInteger(v.height) ||
        !Number.isSafeInteger(v.round) ||
        ![1, 2, 3].includes(v.step) ||
        typeof v.signBytes !== "string"
      ) {
        throw new ConsensusError(ConsensusErrorCode.GuardCorrupt, "double-sign guard file is corrupt", {
          details: { path },
        });
      }
      return v;
    },
    async save(last) {
      const tmp = `${path}.tmp`;
      const fh = await open(tmp, "w");
      try {
        await fh.writeFile(`${JSON.stringify(last)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      const dfd = openSync(dirname(path), "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    },
  };
}

/** Guard state in memory (simulations; lost with the process). */
export function memoryGuardStore(): GuardStore & { readonly current: () => LastSigned | undefined } {
  let cur: LastSigned | undefined;
  return {
    current: () => cur,
    async load() {
      return cur;
    },
    async save(last) {
      cur = last;
    },
  };
}
