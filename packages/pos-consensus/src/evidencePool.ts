import { evidenceKey } from "./evidence.ts";
import type { Evidence } from "./types.ts";

/** Evidence this node has seen, each piece once, bounded (oldest dropped first). */
export class EvidencePool {
  private readonly items = new Map<string, Evidence>();
  private readonly max: number;

  constructor(max = 10_000) {
    this.max = max;
  }

  /** Adds `e`; true when it is new. */
  add(e: Evidence): boolean {
    const key = evidenceKey(e);
    if (this.items.has(key)) return false;
    if (this.items.size >= this.max) {
      const first = this.items.keys().next();
      if (!first.done) this.items.delete(first.value);
    }
    this.items.set(key, e);
    return true;
  }

  list(): Evidence[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }
}
