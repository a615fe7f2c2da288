import type { Logger } from "@dseq/common";
import type { PreconfSource } from "@dseq/rpc";
import type { SignedFragment } from "../blockStream.ts";
import { createPreconfFeed, preconfirmationOf } from "./feed.ts";
import { preconfFromSigned, preconfFromWire } from "./fromWire.ts";
import {
  type AddResult,
  createPreconfStore,
  defaultPreconfStoreOptions,
  type FragmentEvidence,
  type PreconfStore,
  type PreconfStoreOptions,
} from "./store.ts";

/**
 * The node's preconfirmation service (ADR 0170): one store, one feed for the RPC. Every fragment
 * the node streams itself or accepts off the proposal topic goes through `record`: new ones are
 * published as preconfirmations, contradicting ones become evidence (ADR 0171) and are logged.
 */
export type PreconfService = {
  store: PreconfStore;
  /** For `rpc.subscriptions.setPreconfSource` and sendRawSync's `{ preconfirmed: true }`. */
  source: PreconfSource;
  /** A fragment this node signed and is about to gossip (its wire bytes). */
  own(raw: Uint8Array): AddResult;
  /** A fragment accepted off the proposal topic, with the bytes it came in. */
  gossiped(f: SignedFragment, raw: Uint8Array): AddResult;
  evidence(): readonly FragmentEvidence[];
};

export function createPreconfService(
  d: { chainId: bigint; logger: Logger },
  opts: PreconfStoreOptions = defaultPreconfStoreOptions,
): PreconfService {
  const store = createPreconfStore(opts);
  const feed = createPreconfFeed();
  const record = (f: ReturnType<typeof preconfFromWire>): AddResult => {
    const r = store.add(f);
    if (r.kind === "new") feed.emit(preconfirmationOf(f, []));
    else if (r.kind === "equivocation") {
      d.logger.error("fragment equivocation evidence", {
        height: f.height,
        round: f.round,
        seq: f.seq,
        signer: f.signer,
      });
    }
    return r;
  };
  return {
    store,
    source: feed.source,
    own: (raw) => record(preconfFromWire(raw, d.chainId)),
    gossiped: (f, raw) => record(preconfFromSigned(f, raw)),
    evidence: () => store.evidence(),
  };
}
