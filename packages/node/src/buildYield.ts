/**
 * An open build runs transactions in microtasks (state is in memory), which would hold the
 * event loop for as long as transactions keep coming: timers (the slot), consensus messages
 * and RPC would wait. Sources give the loop a turn every few milliseconds.
 */
const YIELD_EVERY_MS = 4;

/** A function to await before each transaction a build source hands out. */
export function buildYield(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    await new Promise((r) => setImmediate(r));
    last = performance.now();
  };
}
