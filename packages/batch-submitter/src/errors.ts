import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the batch submitter's failures; callers match on these, never on message text. */
export const BatchErrorCode = {
  /** Batch data that does not decode: truncated, oversized, bad varint, trailing bytes, bad version. */
  BadBatchData: "BATCH_BAD_DATA",
  /** Blob contents that break the 31/32 packing, or a commitment/proof/versioned hash that does not match. */
  BadBlob: "BATCH_BAD_BLOB",
  /** Blocks handed to the encoder or cutter that cannot be encoded (gap, too many, too big). */
  BadBlocks: "BATCH_BAD_BLOCKS",
  /** The L1 inbox state disagrees with what the submitter holds (another submitter's batch, a fork). */
  InboxMismatch: "BATCH_INBOX_MISMATCH",
  /** The persisted submitter state does not decode. */
  BadStoredState: "BATCH_BAD_STORED_STATE",
  InvalidOptions: "BATCH_INVALID_OPTIONS",
  NotStarted: "BATCH_NOT_STARTED",
} as const;

export type BatchErrorCode = (typeof BatchErrorCode)[keyof typeof BatchErrorCode];

export class BatchError extends DseqError {
  declare readonly code: BatchErrorCode;
  constructor(code: BatchErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "BatchError";
  }
}

export const badData = (message: string, details?: Record<string, unknown>): BatchError =>
  new BatchError(BatchErrorCode.BadBatchData, message, details ? { details } : {});
