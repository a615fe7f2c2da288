import { DseqError } from "@dseq/common";

/** Why derivation stopped: every code names one check (ADR 0180). */
export const DeriveErrorCode = {
  /** Index, previous batch hash, block range or batch hash do not continue the derived chain. */
  BatchChain: "DERIVE_BATCH_CHAIN",
  /** The L1 transaction's header argument differs from the BatchAppended log. */
  HeaderMismatch: "DERIVE_HEADER_MISMATCH",
  /** The batch data does not hash to the signed header's dataHash. */
  DataHash: "DERIVE_DATA_HASH",
  /** The data (transaction, blob sidecars) cannot be fetched now; retried. */
  DataUnavailable: "DERIVE_DATA_UNAVAILABLE",
  /** A blob sidecar fails its KZG proof or versioned hash. */
  BadBlob: "DERIVE_BAD_BLOB",
  /** The data does not decode (truncated, malformed, over a bound). */
  BadData: "DERIVE_BAD_DATA",
  /** The decoded blocks do not cover the header's block range one by one. */
  BlockRange: "DERIVE_BLOCK_RANGE",
  /** A block takes more L1 entries than L1 has confirmed before the batch. */
  L1Entries: "DERIVE_L1_ENTRIES",
  /** Re-execution skipped one of the block's transactions: the block cannot be what was signed. */
  TxSkipped: "DERIVE_TX_SKIPPED",
  BlockHash: "DERIVE_BLOCK_HASH",
  StateRoot: "DERIVE_STATE_ROOT",
  /** A block already in the verifier's store (a restart mid-batch) differs from the batch. */
  StoredBlock: "DERIVE_STORED_BLOCK",
  /** An L1 reorg beyond the confirmations removed a batch already derived (ADR 0181). */
  ReorgBelowDerived: "DERIVE_REORG_BELOW_DERIVED",
  /** The derive store is unreadable or from another chain. */
  BadStore: "DERIVE_BAD_STORE",
} as const;
export type DeriveErrorCode = (typeof DeriveErrorCode)[keyof typeof DeriveErrorCode];

export type DeriveErrorDetails = {
  batchIndex: bigint;
  /** The L2 block the check failed on, when it is about one block. */
  block?: bigint;
  /** The field that differs (`dataHash`, `stateRoot`, `prevBatchHash`, ...). */
  field: string;
  expected?: string;
  actual?: string;
};

export class DeriveError extends DseqError {
  readonly batchIndex: bigint;
  readonly block: bigint | undefined;
  readonly field: string;

  constructor(code: DeriveErrorCode, message: string, d: DeriveErrorDetails, cause?: unknown) {
    const where = `batch ${d.batchIndex}${d.block === undefined ? "" : `, block ${d.block}`}, ${d.field}`;
    super(code, `${where}: ${message}`, {
      cause,
      details: {
        batchIndex: d.batchIndex.toString(),
        ...(d.block === undefined ? {} : { block: d.block.toString() }),
        field: d.field,
        ...(d.expected === undefined ? {} : { expected: d.expected }),
        ...(d.actual === undefined ? {} : { actual: d.actual }),
      },
    });
    this.name = "DeriveError";
    this.batchIndex = d.batchIndex;
    this.block = d.block;
    this.field = d.field;
  }

  /** Transient: the same batch is tried again later; anything else halts derivation. */
  get retryable(): boolean {
    return this.code === DeriveErrorCode.DataUnavailable;
  }
}
