import type { ConsensusInput } from "./consensusCore.ts";

/**
 * The bounded queue of accepted network inputs waiting for the loop. Full: the oldest input
 * is dropped (and returned, so the caller can forget it was seen and count the drop).
 */
export class NetworkQueue {
  private readonly maxSize: number;
  private items: ConsensusInput[] = [];
  private head = 0;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends `input`; returns the input dropped to make room, if any. */
  push(input: ConsensusInput): ConsensusInput | undefined {
    let dropped: ConsensusInput | undefined;
    if (this.length >= this.maxSize) dropped = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    this.items.push(input);
    return dropped;
  }

  shift(): ConsensusInput | undefined {
    return this.head < this.items.length ? this.items[this.head++] : undefined;
  }

  /** Frees the slots of inputs already taken. */
  compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}
