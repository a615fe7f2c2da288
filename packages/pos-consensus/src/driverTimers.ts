import type { Clock } from "@dseq/common";

/**
 * The driver's height-scoped timers (timeouts, backoffs, rebroadcast, the wait before the
 * next height): all cancelled together when the height ends or the driver stops.
 */
export class DriverTimers {
  private readonly clock: Clock;
  private readonly cancels = new Set<() => void>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Runs `fn` after `ms` unless `cancelAll` comes first. */
  after(ms: number, fn: () => void): void {
    const cancel = this.clock.setTimeout(() => {
      this.cancels.delete(cancel);
      fn();
    }, ms);
    this.cancels.add(cancel);
  }

  cancelAll(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
  }
}
