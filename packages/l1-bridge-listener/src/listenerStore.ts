import { bytesToUtf8, utf8ToBytes } from "@dseq/common";
import { L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import type { KvOp, KvStore } from "./kvStore.ts";
import type { ListenerState, StoredBlock } from "./listenerState.ts";
import type { L1Event, L1ListenerContracts } from "./types.ts";

/** Which L1 and contracts a stored state belongs to; checked on load. */
export type ListenerStoreScope = { readonly l1ChainId: number; readonly contracts: L1ListenerContracts };

const STATE_KEY = utf8ToBytes("state");
const EVENT_PREFIX = "e/";
const SEQ_DIGITS = 12;

const eventKey = (seq: number): Uint8Array =>
  utf8ToBytes(EVENT_PREFIX + String(seq).padStart(SEQ_DIGITS, "0"));

/** JSON with bigints as `{"$n": "<decimal>"}` (events and state both hold uint256 values). */
export function encodeJson(value: unknown): Uint8Array {
  return utf8ToBytes(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? { $n: v.toString() } : v)),
  );
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(bytesToUtf8(bytes), (_k, v: unknown) =>
    v !== null && typeof v === "object" && "$n" in v && typeof (v as { $n: unknown }).$n === "string"
      ? BigInt((v as { $n: string }).$n)
      : v,
  ) as T;
}

type StoredStateJson = {
  v: 1;
  l1ChainId: number;
  contracts: L1ListenerContracts;
  recent: StoredBlock[];
  amounts: [bigint, bigint][];
  nextSeq: number;
};

export async function loadListenerState(
  store: KvStore,
  scope: ListenerStoreScope,
): Promise<ListenerState | undefined> {
  const raw = await store.get(STATE_KEY);
  if (raw === undefined) return undefined;
  let s: StoredStateJson;
  try {
    s = decodeJson<StoredStateJson>(raw);
  } catch (err) {
    throw new L1ListenerError(L1ListenerErrorCode.BadStoredState, "stored listener state does not decode", {
      cause: err,
    });
  }
  const same =
    s.v === 1 &&
    s.l1ChainId === scope.l1ChainId &&
    (["lockingPool", "depositBridge", "batchInbox"] as const).every(
      (k) => s.contracts?.[k]?.toLowerCase() === scope.contracts[k].toLowerCase(),
    );
  if (!same || !Array.isArray(s.recent) || s.recent.length === 0) {
    throw new L1ListenerError(
      L1ListenerErrorCode.BadStoredState,
      "stored listener state is for another L1 or contracts",
      {
        details: { storedChainId: s.l1ChainId, storedContracts: s.contracts, scope },
      },
    );
  }
  return { recent: s.recent, amounts: new Map(s.amounts), nextSeq: s.nextSeq };
}

/**
 * Writes the state and the events it confirmed in one batch, and deletes the `forgotten` events
 * (those of blocks a reorg removed), so the stored log never holds an event of a block that
 * left the canonical chain once the state that forgot it is stored.
 */
export async function saveListenerState(
  store: KvStore,
  scope: ListenerStoreScope,
  state: ListenerState,
  events: readonly L1Event[],
  forgotten?: { readonly fromSeq: number; readonly toSeq: number },
): Promise<void> {
  const json: StoredStateJson = {
    v: 1,
    l1ChainId: scope.l1ChainId,
    contracts: scope.contracts,
    recent: [...state.recent],
    amounts: [...state.amounts],
    nextSeq: state.nextSeq,
  };
  const ops: KvOp[] = [];
  if (forgotten && forgotten.toSeq > forgotten.fromSeq) {
    for await (const [key] of store.range(eventKey(forgotten.fromSeq), eventKey(forgotten.toSeq))) {
      ops.push({ type: "del", key });
    }
  }
  for (const e of events) ops.push({ type: "put", key: eventKey(e.seq), value: encodeJson(e) });
  ops.push({ type: "put", key: STATE_KEY, value: encodeJson(json) });
  await store.batch(ops);
}

/** Stored confirmed events with `seq >= fromSeq`, in order, at most `limit`. */
export async function readStoredEvents(
  store: KvStore,
  fromSeq: number,
  limit = Infinity,
): Promise<L1Event[]> {
  const out: L1Event[] = [];
  if (limit <= 0) return out;
  for await (const [, value] of store.range(eventKey(fromSeq), utf8ToBytes(`${EVENT_PREFIX}~`))) {
    out.push(decodeJson<L1Event>(value));
    if (out.length >= limit) break;
  }
  return out;
}

/** Deletes stored events with `seq < belowSeq` (the node calls it once they are in committed L2 blocks). */
export async function pruneStoredEvents(store: KvStore, belowSeq: number): Promise<number> {
  const ops: KvOp[] = [];
  for await (const [key] of store.range(eventKey(0), eventKey(belowSeq))) ops.push({ type: "del", key });
  if (ops.length > 0) await store.batch(ops);
  return ops.length;
}
