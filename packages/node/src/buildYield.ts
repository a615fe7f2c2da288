/**
 * An open build runs transactions in microtasks (state is in memory), which would hold the
 * event loop for as long as transactions keep coming: timers (the slot), consensus messages
 * and RPC would wait. Sources give the loop a turn every few milliseconds.
 *
 * Fair share (ADR 0165): on a busy node one turn of the loop (RPC admission, gossip) can take
 * tens of milliseconds; a build that then ran only 4 ms per turn got a tenth of the thread and
 * sealed a near-empty block while the pool filled (48 transactions in a 2.7 s build under
 * load). So a build slice lasts as long as the loop's last turn took, between 4 and 25 ms: the
 * build gets about half the thread when the node is busy, and a timer is late by 25 ms at most.
 */
const MIN_SLICE_MS = 4;
const MAX_SLICE_MS = 25;

export type BuildYieldDeps = {
  now(): number;
  /** One turn of the event loop. */
  turn(): Promise<void>;
};

const realDeps: BuildYieldDeps = {
  now: () => performance.now(),
  turn: () => new Promise((r) => setImmediate(r)),
};

/** A function to await before each transaction a build source hands out. */
export function buildYield(deps: BuildYieldDeps = realDeps): () => Promise<void> {
  let last = deps.now();
  let slice = MIN_SLICE_MS;
  return async () => {
    if (deps.now() - last < slice) return;
    const t0 = deps.now();
    await deps.turn();
    last = deps.now();
    slice = Math.min(MAX_SLICE_MS, Math.max(MIN_SLICE_MS, last - t0));
  };
}
