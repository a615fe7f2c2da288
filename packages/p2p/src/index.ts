export { defaultGossipBatcherOptions, GossipBatcher, type GossipBatcherOptions } from "./batcher.ts";
export { P2pError, P2pErrorCode } from "./errors.ts";
export { encodeFrame, encodeVarint, FrameDecoder, FrameError } from "./frames.ts";
export { createP2pHost, P2pHost, type P2pModules } from "./host.ts";
export {
  peerIdToAddress,
  peerIdToPublicKey,
  publicKeyToAddress,
  publicKeyToPeerId,
  sequencerKeyToPeerId,
  sequencerKeyToPrivateKey,
} from "./identity.ts";
export {
  defaultGossipOptions,
  defaultP2pOptions,
  type GossipOptions,
  type P2pOptions,
  type P2pOptionsInput,
  type ReconnectOptions,
  resolveP2pOptions,
} from "./options.ts";
export {
  type AnyProtocolSpec,
  BLOCK_ITEM_OVERHEAD,
  type BlockSizeLimits,
  BlocksByRangeProtocol,
  blocksByRangeBudget,
  MAX_BLOCKS_PER_REQUEST,
  type ProtocolSpec,
  protocolBudget,
  protocolId,
  type ResponseBudget,
  ResultCode,
  StatusProtocol,
  TssDirectProtocol,
} from "./protocols.ts";
export { defaultPublishThrottleOptions, type PublishThrottleOptions } from "./publishQueue.ts";
export {
  type RequestContext,
  RequestError,
  type RequestHandler,
  ResponseError,
  type ResponseSource,
} from "./reqresp.ts";
export { defaultTopicLimits, messageId, TOPIC_KINDS, type TopicKind, topicName } from "./topics.ts";
export {
  createTssTransport,
  decodeTssEnvelope,
  defaultTssTransportOptions,
  encodeTssEnvelope,
  TssDropReason,
  type TssEnvelope,
  type TssHost,
  type TssP2pTransport,
  type TssTransportMessage,
  type TssTransportModules,
  type TssTransportOptions,
  type TssTransportStats,
  verifyTssEnvelope,
} from "./tssTransport.ts";
export type {
  BlockSource,
  ChainHead,
  MessageSource,
  P2pEvents,
  PeerInfo,
  PeerState,
  TopicHandler,
  ValidatorSetView,
  Verdict,
} from "./types.ts";
export {
  type BlocksByRangeRequest,
  type BlockWithCertificate,
  DecodeError,
  decodeBatch,
  decodeBlocksByRangeRequest,
  decodeBlockWithCertificate,
  decodeStatus,
  encodeBatch,
  encodeBlocksByRangeRequest,
  encodeBlockWithCertificate,
  encodeStatus,
  type Status,
} from "./wire.ts";
