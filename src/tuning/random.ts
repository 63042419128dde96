/**
 * Seeded, deterministic pseudo-random numbers for the tuning samplers (xoshiro128** seeded through splitmix32).
 *
 * Determinism contract: a sampler never keeps hidden state between suggestions. The study derives the generator of
 * trial number k from the study seed alone, `trialRng(seed, k)`, so a study resumed after a crash (seed + finished
 * trials) suggests exactly what the uninterrupted study would have suggested.
 */

/** A source of uniform numbers; samplers only ever consume it through these methods. */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** Any integer (or string, hashed) seeds the generator; equal seeds give equal streams. */
  constructor(seed: number | string) {
    let x = hashString(String(seed));
    const next = () => {
      // splitmix32: spreads any seed (even 0) over the whole state.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** FNV-1a, 32 bits. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The generator for trial number `trial` (0-based, in creation order) of a study seeded with `seed`. */
export function trialRng(seed: number | string, trial: number): Rng {
  return new Rng(`${String(seed)}/trial/${trial}`);
}
