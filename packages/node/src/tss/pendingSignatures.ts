import { bytesToHex, type Clock, type Hex } from "@dseq/common";
import type { TssSignature } from "./signDigest.ts";

export type PendingEntry = {
  promise: Promise<TssSignature>;
  settled: boolean;
  resolve(s: TssSignature): void;
  reject(e: unknown): void;
  onSettle(fn: () => void): void;
};

export const sessionKey = (groupKey: Hex, digest: Uint8Array): string => `${groupKey}:${bytesToHex(digest)}`;

/** The digests this node waits to see signed, by (group key, digest); each settles once. */
export class PendingSignatures {
  private readonly entries = new Map<string, PendingEntry>();
  private readonly clock: Clock;
  constructor(clock: Clock) {
    this.clock = clock;
  }

  get(key: string): PendingEntry | undefined {
    return this.entries.get(key);
  }

  get size(): number {
    return this.entries.size;
  }

  open(key: string, deadlineMs: number, timeoutError: () => Error): PendingEntry {
    const cleanups: (() => void)[] = [];
    let res!: (s: TssSignature) => void;
    let rej!: (e: unknown) => void;
    const promise = new Promise<TssSignature>((a, b) => {
      res = a;
      rej = b;
    });
    const settle = (): boolean => {
      if (entry.settled) return false;
      entry.settled = true;
      this.entries.delete(key);
      for (const c of cleanups) c();
      return true;
    };
    const entry: PendingEntry = {
      promise,
      settled: false,
      resolve: (s) => settle() && res(s),
      reject: (e) => settle() && rej(e),
      onSettle: (fn) => cleanups.push(fn),
    };
    this.entries.set(key, entry);
    cleanups.push(this.clock.setTimeout(() => entry.reject(timeoutError()), deadlineMs));
    return entry;
  }

  /** Rejects every waiting call (the service stops). */
  rejectAll(err: () => Error): void {
    for (const e of [...this.entries.values()]) e.reject(err());
  }
}
