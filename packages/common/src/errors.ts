/**
 * Base error of every dseq package. Callers match on `name` or `code`, never on message text
 * (viem's habit). `details` carries structured context; `cause` keeps the original error.
 */
export type DseqErrorOptions = {
  details?: Record<string, unknown>;
  cause?: unknown;
};

export class DseqError extends Error {
  /** Stable, machine-readable code, e.g. `TXPOOL_NONCE_TOO_LOW`. */
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, opts: DseqErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DseqError";
    this.code = code;
    this.details = opts.details ?? {};
  }

  /**
   * The error as plain data, for logs. Typed loosely so that a subclass that goes on a wire in
   * another form (rpc's `RpcError`, a JSON-RPC error object) can answer its own shape.
   */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** Stable codes of the errors common itself throws. */
export const CommonErrorCode = {
  /** `withTimeout` ran out of time (`TimeoutError`). */
  Timeout: "TIMEOUT",
  /** A metric name that does not follow `dseq_<module>_<what>_<unit>`. */
  BadMetricName: "COMMON_BAD_METRIC_NAME",
  /** `vectorsPath` found no vectors while DSEQ_REQUIRE_VECTORS=1. */
  VectorsMissing: "COMMON_VECTORS_MISSING",
} as const;
export type CommonErrorCode = (typeof CommonErrorCode)[keyof typeof CommonErrorCode];

/** An error of common's own (other packages have their own subclass beside their code table). */
export class CommonError extends DseqError {
  override readonly code: CommonErrorCode;
  constructor(code: CommonErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "CommonError";
    this.code = code;
  }
}

export function isDseqError(err: unknown, code?: string): err is DseqError {
  return err instanceof DseqError && (code === undefined || err.code === code);
}

/** A short, loggable description of anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
