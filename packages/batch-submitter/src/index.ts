export {
  type Approval,
  approveBatch,
  type OwnChain,
  RefusalReason,
  type SignRequest,
} from "./approve/approveBatch.ts";
export { type BatchHeaderJson, headerFromJson, headerToJson } from "./approve/headerJson.ts";
export {
  BLOB_CAPACITY,
  type BlobSidecar,
  blobCount,
  blobsToData,
  buildBlobSidecar,
  commitmentToVersionedHash,
  dataToBlobs,
  loadKzg,
  MAX_BLOBS_PER_TX,
  verifyBlobSidecar,
} from "./codec/blobs.ts";
export { Compression } from "./codec/compress.ts";
export { type DecodeBatchOptions, decodeBatch, decodePayload } from "./codec/decodeBatch.ts";
export { type EncodeBatchOptions, encodeBatch, encodePayload } from "./codec/encodeBatch.ts";
export {
  type BatchData,
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  batchDigest,
  batchHash,
  blobHashesDigest,
  buildBatchHeader,
  dataHashOf,
  type L1Domain,
  tipAfter,
} from "./codec/header.ts";
export { TxKind } from "./codec/txColumns.ts";
export {
  type BatchBlock,
  type BatchLimits,
  type CommittedBlock,
  type CommittedBlockSource,
  defaultBatchLimits,
} from "./codec/types.ts";
export {
  type CutDecision,
  type CutterOptions,
  cutBatch,
  defaultCutterOptions,
  type PendingBlock,
} from "./cutter/cutBatch.ts";
export { BatchError, BatchErrorCode } from "./errors.ts";
export {
  BatchSubmitter,
  type BatchSubmitterModules,
  type BatchSubmitterOptions,
  defaultBatchSubmitterOptions,
  type GroupSigner,
  type TickResult,
} from "./submitter/batchSubmitter.ts";
export { type AppendedBatch, inboxReader } from "./submitter/inboxBatches.ts";
export { inboxTipReader, readInboxTip } from "./submitter/readInboxTip.ts";
export { defaultFeeOptions, type FeeOptions, nextFees } from "./submitter/sendBatchTx.ts";
export { createSubmitterMetrics, type SubmitterMetrics } from "./submitter/submitterMetrics.ts";
export {
  type InFlight,
  loadSubmitterState,
  type SentTx,
  type SubmitterState,
} from "./submitter/submitterState.ts";
export { type SubmitterTurnOptions, submitterTurn } from "./submitter/submitterTurn.ts";
