import { CommonErrorCode, DseqError } from "./errors.ts";

export class TimeoutError extends DseqError {
  constructor(what: string, ms: number) {
    super(CommonErrorCode.Timeout, `${what} timed out after ${ms} ms`, { details: { ms } });
    this.name = "TimeoutError";
  }
}

/**
 * Resolves or rejects as `promise` does, or rejects with a TimeoutError after `ms`, or with
 * the signal's reason when it aborts first. The timer never keeps the process alive.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = "operation",
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(what, ms))), ms);
    timer.unref?.();
    const onAbort = (): void => finish(() => reject(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    let done = false;
    function finish(f: () => void): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      f();
    }
    promise.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** An AbortSignal that aborts when any of the given ones does. */
export function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}
