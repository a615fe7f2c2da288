/**
 * mulberry32: a small, fast, seeded PRNG returning floats in [0, 1), so simulations and
 * property tests (drops, delays, random operations) replay exactly from a printed seed.
 * Not for anything that decides consensus or touches keys.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
