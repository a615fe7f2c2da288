import { CallTracer } from "./callTracer.ts";
import { FlatCallTracer, type FlatContext } from "./flatCallTracer.ts";
import { FourByteTracer, NoopTracer } from "./fourByteTracer.ts";
import type { Tracer } from "./hooks.ts";
import { PrestateTracer } from "./prestateTracer.ts";
import { StructLogger } from "./structLogger.ts";
import { TraceError, TraceErrorCode } from "./traceErrors.ts";

export const TRACER_NAMES = [
  "callTracer",
  "flatCallTracer",
  "prestateTracer",
  "4byteTracer",
  "noopTracer",
] as const;
export type TracerName = (typeof TRACER_NAMES)[number];

export type TracerOptions = {
  /** Built-in tracer; absent: the struct logger. */
  tracer?: string;
  tracerConfig?: Record<string, unknown>;
  /** Struct logger options (geth's logger.Config). */
  disableStack?: boolean;
  disableStorage?: boolean;
  enableMemory?: boolean;
  disableMemory?: boolean;
  enableReturnData?: boolean;
  limit?: number;
};

const BOOL_KEYS: Record<TracerName, string[]> = {
  callTracer: ["onlyTopCall", "withLog"],
  flatCallTracer: ["convertParityErrors", "includePrecompiles"],
  prestateTracer: ["diffMode", "disableCode", "disableStorage", "includeEmpty"],
  "4byteTracer": [],
  noopTracer: [],
};

function checkConfig(name: TracerName, cfg: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(cfg)) {
    if (BOOL_KEYS[name].includes(k) && typeof v !== "boolean")
      throw new TraceError(
        TraceErrorCode.BadConfig,
        `json: cannot unmarshal ${typeof v} into Go struct field .${k} of type bool`,
      );
  }
}

/** A fresh tracer for one transaction (a tracer keeps per-transaction state). */
export function createTracer(
  opts: TracerOptions,
  ctx: FlatContext & { maxStructLogBytes?: number } = {},
): Tracer {
  const cfg = opts.tracerConfig ?? {};
  if (opts.tracer === undefined || opts.tracer === "") {
    return new StructLogger(
      {
        ...(opts.disableStack !== undefined ? { disableStack: opts.disableStack } : {}),
        ...(opts.disableStorage !== undefined ? { disableStorage: opts.disableStorage } : {}),
        ...(opts.enableMemory !== undefined ? { enableMemory: opts.enableMemory } : {}),
        ...(opts.disableMemory !== undefined ? { disableMemory: opts.disableMemory } : {}),
        ...(opts.enableReturnData !== undefined ? { enableReturnData: opts.enableReturnData } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      },
      ctx.maxStructLogBytes,
    );
  }
  const name = opts.tracer as TracerName;
  if (!TRACER_NAMES.includes(name))
    throw new TraceError(TraceErrorCode.UnknownTracer, `tracer ${opts.tracer} not found`);
  checkConfig(name, cfg);
  switch (name) {
    case "callTracer":
      return new CallTracer(cfg);
    case "flatCallTracer":
      return new FlatCallTracer(cfg, ctx);
    case "prestateTracer":
      try {
        return new PrestateTracer(cfg);
      } catch (err) {
        throw new TraceError(TraceErrorCode.BadConfig, (err as Error).message);
      }
    case "4byteTracer":
      return new FourByteTracer();
    case "noopTracer":
      return new NoopTracer();
  }
}
