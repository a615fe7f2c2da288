import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the tracing errors (match on `code`, never on message text). */
export const TraceErrorCode = {
  UnknownTracer: "TRACE_UNKNOWN_TRACER",
  BadConfig: "TRACE_BAD_CONFIG",
  TooLarge: "TRACE_TOO_LARGE",
  Timeout: "TRACE_TIMEOUT",
  NotFound: "TRACE_NOT_FOUND",
  Failed: "TRACE_FAILED",
} as const;
export type TraceErrorCode = (typeof TraceErrorCode)[keyof typeof TraceErrorCode];

export class TraceError extends DseqError {
  constructor(code: TraceErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "TraceError";
  }
}
