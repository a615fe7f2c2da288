export { anySignal, TimeoutError, withTimeout } from "./abort.ts";
export {
  bigintToHex,
  bytesToBigint,
  bytesToHex,
  bytesToUtf8,
  compareBytes,
  concatBytes,
  equalBytes,
  type Hex,
  hexToBigint,
  hexToBytes,
  isHex,
  numberToHex,
  uintToBytes,
  utf8ToBytes,
} from "./bytes.ts";
export { type Clock, FakeClock, realClock } from "./clock.ts";
export {
  CommonError,
  CommonErrorCode,
  DseqError,
  type DseqErrorOptions,
  errorMessage,
  isDseqError,
} from "./errors.ts";
export { EventBus, type EventBusOptions, type EventMap, type Listener } from "./eventBus.ts";
export {
  type CapturedLine,
  createCapturingLogger,
  createLogger,
  createNoopLogger,
  type LogContext,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  REDACTED_FIELDS,
} from "./logger.ts";
export {
  type CounterMetric,
  createMetrics,
  type GaugeMetric,
  type HistogramMetric,
  type HistogramSpec,
  type Labels,
  METRIC_NAME_RE,
  type MetricSpec,
  type Metrics,
  type MetricsOptions,
} from "./metrics.ts";
export { seededRandom } from "./seededRandom.ts";
