import type { Hex, Logger, Metrics } from "@dseq/common";
import { type ApproveFn, createPartyKey } from "@dseq/mpc-tss";
import { createTssTransport, type TssHost } from "@dseq/p2p";
import type { Started } from "../start/started.ts";
import { type ScheduleLike, type SpanLike, scheduleValidatorSource } from "./scheduleValidatorSource.ts";
import { TssService, type TssServiceOptions } from "./tssService.ts";

export type NodeTss = {
  service: TssService;
  /** Call from the commit path with `outcome.spanStarted`. */
  spanStarted(span: SpanLike): void;
};

/**
 * The node's TSS: p2p's TssTransport on the node's host (members = the schedule's current
 * set, then whatever the service asks for), and a TssService over the rotation schedule.
 * `stop` stops the service, then the transport.
 */
export async function initTss(
  opts: Pick<TssServiceOptions, "chainId" | "dataDir" | "password" | "approve"> &
    Partial<Omit<TssServiceOptions, "chainId" | "dataDir" | "password" | "approve">>,
  m: {
    host: TssHost;
    /** The sequencer key (the p2p identity). Never logged. */
    privateKey: Uint8Array;
    schedule: () => ScheduleLike;
    logger: Logger;
    metrics: Metrics;
  },
): Promise<Started<NodeTss>> {
  const source = scheduleValidatorSource(m.schedule);
  const transport = await createTssTransport(
    { chainId: opts.chainId, members: source.current().validators.map((v) => v.party as Hex) },
    { host: m.host, privateKey: m.privateKey, logger: m.logger, metrics: m.metrics },
  );
  const service = new TssService(opts, {
    key: createPartyKey(m.privateKey),
    transport,
    validators: source,
    logger: m.logger,
    metrics: m.metrics,
  });
  try {
    await service.start();
  } catch (err) {
    transport.stop();
    throw err;
  }
  return {
    module: { service, spanStarted: (span) => source.spanStarted(span) },
    stop: async () => {
      await service.stop();
      transport.stop();
    },
  };
}

export type { ApproveFn };
