/**
 * How long to wait after a commit before entering the next height: until `startTime` (the
 * application's `startTime(height)`, driver clock ms) when it names one, capped at
 * `maxStartDelayMs` so a bad answer cannot stall the chain; a past time or NaN means at once;
 * no time falls back to `commitDelayMs`.
 */
export function heightStartDelay(
  startTime: number | undefined,
  now: number,
  opts: { readonly commitDelayMs: number; readonly maxStartDelayMs: number },
): { ms: number; capped: boolean } {
  if (startTime === undefined) return { ms: Math.max(0, opts.commitDelayMs), capped: false };
  if (typeof startTime !== "number" || Number.isNaN(startTime)) return { ms: 0, capped: false };
  const wait = startTime - now;
  if (wait > opts.maxStartDelayMs) return { ms: opts.maxStartDelayMs, capped: true };
  return { ms: Math.max(0, wait), capped: false };
}
