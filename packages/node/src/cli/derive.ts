import { parseArgs } from "node:util";
import { createLogger, createMetrics, DseqError } from "@dseq/common";
import { loadChainSpec } from "../chainSpec.ts";
import { loadNodeConfig } from "../config.ts";
import { startVerifier } from "../derive/startVerifier.ts";
import { NodeErrorCode } from "../errors.ts";

export const DERIVE_USAGE = `  dseq derive --config FILE [--beacon URL]
      Run a verifier: rebuild the L2 from L1 alone (BatchAppended, calldata and blob batches
      from the beacon API at URL), check every batch against its signed header, serve JSON-RPC.`;

class DeriveUsageError extends DseqError {
  constructor(message: string) {
    super(NodeErrorCode.CliUsage, message);
    this.name = "UsageError";
  }
}

/** `dseq derive`: runs until SIGINT/SIGTERM; exit 0 after a clean stop. */
export async function cmdDerive(args: string[]): Promise<number> {
  let values: { config?: string | undefined; beacon?: string | undefined; help?: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        config: { type: "string" },
        beacon: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new DeriveUsageError((err as Error).message);
  }
  if (values.help) {
    console.log(DERIVE_USAGE);
    return 0;
  }
  if (!values.config) throw new DeriveUsageError("derive needs --config FILE");
  if (values.beacon !== undefined && !/^https?:\/\//.test(values.beacon))
    throw new DeriveUsageError("--beacon must be an http(s):// URL");
  const config = loadNodeConfig(values.config);
  const spec = loadChainSpec(config.chain.genesis);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const metrics = createMetrics({ defaultMetrics: true });
  const v = await startVerifier(config, spec, {
    logger,
    metrics,
    ...(values.beacon ? { beaconUrl: values.beacon } : {}),
    // a named crash point of a chain rewind, for the kill -9 test (ADR 0184)
    crashAt: process.env.DSEQ_DERIVE_CRASH_AT,
  });
  logger.info("verifier serving", { rpc: v.rpcHttp });
  return new Promise<number>((resolve) => {
    const onSignal = (): void => {
      v.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error("shutdown failed", { err });
          resolve(1);
        },
      );
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
}
