// Tiny seeded PRNG (mulberry32) shared by the weather example's data split and models,
// so every random choice is reproducible from a single 32-bit integer seed.

/** Returns a function yielding uniform floats in [0, 1), fully determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** Throws unless `seed` is an integer; returns it as an unsigned 32-bit value. */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) {
    throw new Error(`seed must be an integer, got ${String(seed)}`);
  }
  return seed >>> 0;
}
