import type { Clock, Hex, Logger } from "@dseq/common";
import { type GossipsubMessage, TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId, Stream } from "@libp2p/interface";
import { P2pError, P2pErrorCode } from "./errors.ts";
import type { GossipSubRouter } from "./libp2pNode.ts";
import type { P2pOptions } from "./options.ts";
import type { P2pMetrics } from "./p2pMetrics.ts";
import { PublishQueue } from "./publishQueue.ts";
import { TOPIC_KINDS, type TopicKind, topicName } from "./topics.ts";
import type { MessageSource, TopicHandler, Verdict } from "./types.ts";

type OutboundMessage = { kind: TopicKind; topic: string; data: Uint8Array };

export type GossipDeps = {
  pubsub: GossipSubRouter;
  metrics: P2pMetrics | undefined;
  log: Logger;
  clock: Clock;
  validatorOf(peer: PeerId): Hex | undefined;
  /** Called for every rejected message, after gossipsub was told (the host penalises and maybe bans). */
  onReject(peer: string, kind: TopicKind, reason: string): void;
};

const VERDICT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

/**
 * The gossip side of the host: per-topic handlers (size limit, decode, validate, deliver) fed by
 * gossipsub's async validation, verdicts reported back so rejects lower scores, and publishing
 * through the self-throttling queue.
 */
export class GossipTopics {
  private readonly opts: P2pOptions;
  private readonly deps: GossipDeps;
  private readonly handlers = new Map<TopicKind, TopicHandler<unknown>>();
  private readonly kinds = new Map<string, TopicKind>();
  private readonly pending = new Map<TopicKind, number>();
  private readonly queue: PublishQueue<OutboundMessage>;
  private active = false;

  constructor(opts: P2pOptions, deps: GossipDeps) {
    this.opts = opts;
    this.deps = deps;
    for (const kind of TOPIC_KINDS) this.kinds.set(topicName(opts.chainId, kind), kind);
    this.queue = new PublishQueue<OutboundMessage>(
      opts.publish,
      { send: (out) => this.send(out), size: (out) => out.data.length, backlog: () => this.backlog() },
      deps.clock,
    );
  }

  topic(kind: TopicKind): string {
    return topicName(this.opts.chainId, kind);
  }

  /** Called once gossipsub runs: listens and applies subscriptions made before. */
  start(): void {
    this.active = true;
    this.deps.pubsub.addEventListener("gossipsub:message", (e) => void this.onMessage(e.detail));
    for (const kind of this.handlers.keys()) this.deps.pubsub.subscribe(this.topic(kind));
  }

  stop(): void {
    this.active = false;
    this.queue.close();
  }

  subscribe<T>(kind: TopicKind, handler: TopicHandler<T>): () => void {
    if (this.handlers.has(kind))
      throw new P2pError(P2pErrorCode.AlreadySubscribed, `already subscribed to ${kind}`);
    this.handlers.set(kind, handler as TopicHandler<unknown>);
    if (this.active) this.deps.pubsub.subscribe(this.topic(kind));
    return () => {
      if (this.handlers.get(kind) !== handler) return;
      this.handlers.delete(kind);
      if (this.active) this.deps.pubsub.unsubscribe(this.topic(kind));
    };
  }

  publish(kind: TopicKind, data: Uint8Array): Promise<number> {
    const limit = this.opts.topicLimits[kind];
    if (data.length > limit) {
      return Promise.reject(
        new P2pError(P2pErrorCode.MessageTooLarge, `${kind} message exceeds the topic limit`, {
          details: { bytes: data.length, limit },
        }),
      );
    }
    if (!this.active) return Promise.reject(new P2pError(P2pErrorCode.Stopped, "p2p host is not running"));
    const p = this.queue.enqueue(kind === "tx" ? "bulk" : "priority", {
      kind,
      topic: this.topic(kind),
      data,
    });
    this.deps.metrics?.publishQueued.set(this.queue.queued);
    return p;
  }

  private async send(out: OutboundMessage): Promise<number> {
    const r = await this.deps.pubsub.publish(out.topic, out.data);
    const metrics = this.deps.metrics;
    metrics?.messagesOut.inc({ topic: out.kind });
    metrics?.bytesOut.inc({ topic: out.kind }, out.data.length);
    metrics?.publishQueued.set(this.queue.queued);
    return r.recipients.length;
  }

  /** The fullest outbound gossip stream buffer, and a way to wait for it to drain. */
  private backlog(): { bytes: number; drained(signal: AbortSignal): Promise<void> } {
    let worst: Stream | undefined;
    let bytes = 0;
    for (const s of this.deps.pubsub.streamsOutbound.values()) {
      if (s.rawStream.writeBufferLength > bytes) {
        bytes = s.rawStream.writeBufferLength;
        worst = s.rawStream;
      }
    }
    return { bytes, drained: (signal) => (worst ? worst.onDrain({ signal }) : Promise.resolve()) };
  }

  private async onMessage(event: GossipsubMessage): Promise<void> {
    const { msgId, propagationSource, msg } = event;
    const from = propagationSource.toString();
    const kind = this.kinds.get(msg.topic);
    const handler = kind ? this.handlers.get(kind) : undefined;
    if (!kind || !handler) {
      this.deps.pubsub.reportMessageValidationResult(msgId, from, TopicValidatorResult.Ignore);
      return;
    }
    const metrics = this.deps.metrics;
    metrics?.bytesIn.inc({ topic: kind }, msg.data.length);
    const pending = this.pending.get(kind) ?? 0;
    if (pending >= this.opts.gossip.maxPendingValidations) {
      metrics?.dropped.inc({ topic: kind, reason: "queue_full" });
      this.report(msgId, from, kind, "ignore");
      return;
    }
    if (msg.data.length > this.opts.topicLimits[kind]) {
      this.report(msgId, from, kind, "reject", "too_large");
      return;
    }
    let decoded: unknown;
    try {
      decoded = handler.decode(msg.data);
    } catch {
      this.report(msgId, from, kind, "reject", "decode");
      return;
    }
    const source: MessageSource = { peer: from, validator: this.deps.validatorOf(propagationSource) };
    let verdict: Verdict = "accept";
    if (handler.validate) {
      this.pending.set(kind, pending + 1);
      try {
        verdict = await handler.validate(decoded, source);
      } catch (err) {
        this.deps.log.error("topic validator threw", { topic: kind, err });
        verdict = "ignore";
      } finally {
        this.pending.set(kind, (this.pending.get(kind) ?? 1) - 1);
      }
    }
    this.report(msgId, from, kind, verdict, "invalid");
    if (verdict !== "accept") return;
    try {
      handler.onMessage(decoded, source);
    } catch (err) {
      this.deps.log.error("topic handler threw", { topic: kind, err });
    }
  }

  private report(msgId: string, from: string, kind: TopicKind, verdict: Verdict, reason = "invalid"): void {
    this.deps.pubsub.reportMessageValidationResult(msgId, from, VERDICT[verdict]);
    this.deps.metrics?.messagesIn.inc({ topic: kind, result: verdict });
    if (verdict === "reject") {
      this.deps.metrics?.rejects.inc({ topic: kind, reason });
      this.deps.log.debug("gossip rejected", { peer: from, topic: kind, reason });
      this.deps.onReject(from, kind, reason);
    }
  }
}
