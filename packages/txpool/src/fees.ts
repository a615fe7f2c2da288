/** What the block producer earns per gas from a transaction at `baseFee` (negative if it cannot pay the base fee). */
export function effectiveTip(tx: { feeCap: bigint; tipCap: bigint }, baseFee: bigint): bigint {
  // (Math.min does not take bigints.)
  const room = tx.feeCap - baseFee;
  if (room < tx.tipCap) return room;
  return tx.tipCap;
}

/** geth's replacement rule: both caps strictly higher, and each at least `priceBump` percent higher. */
export function isReplacementPriced(
  old: { feeCap: bigint; tipCap: bigint },
  next: { feeCap: bigint; tipCap: bigint },
  priceBump: bigint,
): boolean {
  if (next.feeCap <= old.feeCap || next.tipCap <= old.tipCap) return false;
  const a = 100n + priceBump;
  return next.feeCap >= (old.feeCap * a) / 100n && next.tipCap >= (old.tipCap * a) / 100n;
}
