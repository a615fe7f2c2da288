import type { CallEngineSource } from "./callEngine.ts";
import type { ChainState } from "./chainState.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { canonicalKey, metaKey } from "./store.ts";

/** What a `CallEngine` in another thread needs from the chain that owns the database. */
export type CallSource = CallEngineSource & {
  /** The stored genesis (`StoredGenesis` JSON): the engine builds its `Common` from it. */
  genesisJson: string;
};

/** Cheap reads only: node and hash lookups, no EVM (ADR 0130). */
export async function callSource(ctx: Pick<ChainState, "db" | "store">): Promise<CallSource> {
  const raw = await ctx.db.get(metaKey("genesis"));
  if (raw === undefined)
    throw new L2ExecError(L2ExecErrorCode.StateUnavailable, "chain store has no genesis");
  return {
    genesisJson: new TextDecoder().decode(raw),
    readNode: (keyHex) => ctx.store.get(keyHex),
    canonicalHash: (n) => ctx.db.get(canonicalKey(n)),
  };
}
