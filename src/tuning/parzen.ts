/**
 * Univariate Parzen estimators of TPE, following Optuna's `_ParzenEstimator` (univariate mode) with its defaults:
 * a prior component (mean at the middle of the range, σ = the range, weight `priorWeight` = 1) mixed with one
 * truncated Gaussian per observation; each σ is the larger gap to its sorted neighbours (endpoints not considered),
 * clipped by the "magic clip" to [range / min(100, 1 + n + 1), range]; stepped and integer leaves score the mass of
 * the grid cell. Categorical leaves mix the observations' one-hot rows smoothed by priorWeight / (n + 1) with a
 * uniform prior row. Observations are weighted by `weights(n)` (Optuna's ramp: older ones beyond 25 count less).
 * Checked against optuna 3.1's `_ParzenEstimator.log_pdf` on fixed observations (equal to ~1e-7; see tpe.test.ts).
 */
import { BatonError } from '../errors.ts';
import { logGaussMass, logPhi, truncnormStd } from './normal.ts';
import type { Rng } from './random.ts';
import type { Distribution } from './space.ts';
import { fromInternal, internalBounds, toInternal } from './transform.ts';

export interface ParzenOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /** Weights of n observations given oldest first. */
  weights: (n: number) => number[];
  /**
   * Divide each continuous kernel by its σ (a true density, as Optuna ≥ 3.5 does since optuna#5110). When false,
   * kernels are scored as Optuna ≤ 3.4 (Debian's 3.1) does, without the 1/σ factor — in effect weighting each kernel
   * by its bandwidth, which favours isolated observations; it found better optima in our benchmarks (see
   * bench/tuning.ts), so it is TpeSampler's default. Stepped, integer and categorical leaves are unaffected.
   */
  normalizeKernels: boolean;
}

export interface ParzenEstimator {
  /** `size` draws: external numbers for numeric leaves, choice indices for categorical ones. */
  sample(rng: Rng, size: number): number[];
  /** log density (log probability mass for stepped, integer and categorical leaves) at each value. */
  logPdf(values: readonly number[]): number[];
}

/** Optuna's default_weights: flat 1 for up to 25 observations, then a linear ramp from 1/n for the older ones. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const w: number[] = [];
  for (let i = 0; i < ramp; i++) w.push(ramp === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (ramp - 1));
  for (let i = 0; i < 25; i++) w.push(1);
  return w;
}

/** Mixture weights: the observations' then the prior's, normalized. */
function mixtureWeights(n: number, o: ParzenOptions): number[] {
  const w = o.weights(n).slice(0, n);
  if (w.length !== n || w.some((x) => !(x >= 0) || !Number.isFinite(x))) throw new BatonError('workflow_invalid', `weights(${n}) must return ${n} finite non-negative numbers`);
  w.push(o.priorWeight);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/** The first index in [lo, hi) whose value is ≥ x (xs sorted ascending). */
function lowerBound(xs: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index drawn from normalized weights by inverse CDF. */
function pickIndex(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulative(w: readonly number[]): Float64Array {
  const cum = new Float64Array(w.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) cum[i] = s += w[i]!;
  cum[w.length - 1] = Infinity; // rounding must never push u past the last component
  return cum;
}

/** A Parzen estimator over `observations` (external values or choice indices, oldest first). */
export function parzenEstimator(dist: Distribution, observations: readonly number[], o: ParzenOptions): ParzenEstimator {
  return dist.type === 'categorical' ? categoricalEstimator(dist.choices.length, observations, o) : numericEstimator(dist, observations, o);
}

function categoricalEstimator(k: number, observations: readonly number[], o: ParzenOptions): ParzenEstimator {
  const n = observations.length;
  const w = mixtureWeights(n, o);
  // Row i (observation i): (v + [c = obs_i]) / (k·v + 1) with v = priorWeight / (n + 1); the prior row is uniform.
  const v = o.priorWeight / (n + 1);
  const probs = new Array<number>(k).fill(w[n]! / k);
  for (let i = 0; i < n; i++) {
    const wi = w[i]! / (k * v + 1);
    for (let c = 0; c < k; c++) probs[c]! += wi * v;
    probs[observations[i]!]! += wi;
  }
  const cum = cumulative(probs);
  return {
    sample: (rng, size) => Array.from({ length: size }, () => pickIndex(cum, rng.next())),
    logPdf: (values) => values.map((c) => Math.log(probs[c] ?? 0)),
  };
}

function numericEstimator(dist: Exclude<Distribution, { type: 'categorical' }>, observations: readonly number[], o: ParzenOptions): ParzenEstimator {
  const { low, high, q } = internalBounds(dist);
  const n = observations.length;
  const w = mixtureWeights(n, o);
  const m = n + 1;
  const mus = new Float64Array(m);
  for (let i = 0; i < n; i++) mus[i] = toInternal(dist, observations[i]!);
  mus[n] = 0.5 * (low + high);

  // Bandwidths: the larger gap to the sorted neighbours (with low and high as outer neighbours).
  // (A native typed-array sort, then each observation takes the next free sorted slot holding its value: equal
  // observations get the sorted slots in chronological order.)
  const sigmas = new Float64Array(m);
  const sorted = new Float64Array(m + 2);
  sorted.set(mus, 1);
  sorted[0] = -Infinity;
  sorted[m + 1] = Infinity;
  sorted.sort();
  sorted[0] = low;
  sorted[m + 1] = high;
  const sortedSigmas = new Float64Array(m);
  for (let j = 0; j < m; j++) sortedSigmas[j] = Math.max(sorted[j + 1]! - sorted[j]!, sorted[j + 2]! - sorted[j + 1]!);
  if (!o.considerEndpoints && m >= 2) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[m - 1] = sorted[m]! - sorted[m - 1]!;
  }
  const taken = new Uint32Array(m);
  const bySlot = new Uint32Array(m); // component at each sorted slot
  for (let i = 0; i < m; i++) {
    const first = lowerBound(sorted, mus[i]!, 1, m + 1) - 1; // slot index into sortedSigmas
    const j = first + taken[first]!++;
    sigmas[i] = sortedSigmas[j]!;
    bySlot[j] = i;
  }
  const maxSigma = high - low;
  const minSigma = o.considerMagicClip ? (high - low) / Math.min(100, 1 + m) : 1e-12;
  for (let i = 0; i < m; i++) sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sigmas[i]!));
  sigmas[n] = high - low; // the prior

  // Observations with equal (μ, σ) — repeated values of int and stepped leaves — merge into one component with
  // their summed weight: the same mixture, fewer terms. Merged components are sorted by μ; the prior comes last.
  const cMu: number[] = [];
  const cSigma: number[] = [];
  const cW: number[] = [];
  let runStart = 0;
  for (let j = 0; j < m; j++) {
    const i = bySlot[j]!;
    if (i === n) continue;
    if (cMu.length === 0 || cMu[cMu.length - 1] !== mus[i]) runStart = cMu.length;
    let k = runStart;
    while (k < cMu.length && cSigma[k] !== sigmas[i]) k++;
    if (k < cMu.length) cW[k]! += w[i]!;
    else {
      cMu.push(mus[i]!);
      cSigma.push(sigmas[i]!);
      cW.push(w[i]!);
    }
  }
  const K = cMu.length; // the prior is component K
  cMu.push(mus[n]!);
  cSigma.push(sigmas[n]!);
  cW.push(w[n]!);
  const sortedMus = Float64Array.from(cMu.slice(0, K));

  // Per component: standardized bounds, log of the accepted mass, log weight.
  const a = new Float64Array(K + 1);
  const b = new Float64Array(K + 1);
  const logAccept = new Float64Array(K + 1);
  const logW = new Float64Array(K + 1);
  const invS = new Float64Array(K + 1);
  const constant = new Float64Array(K + 1); // log w − log accept (− log σ when normalized): continuous leaves
  for (let i = 0; i <= K; i++) {
    a[i] = (low - cMu[i]!) / cSigma[i]!;
    b[i] = (high - cMu[i]!) / cSigma[i]!;
    logAccept[i] = logGaussMass(a[i]!, b[i]!);
    logW[i] = Math.log(cW[i]!);
    invS[i] = 1 / cSigma[i]!;
    constant[i] = logW[i]! - (o.normalizeKernels ? Math.log(cSigma[i]!) : 0) - logAccept[i]! + logPhi(0);
  }
  const cum = cumulative(cW);
  const terms = new Float64Array(K);
  // Far components are skipped: a term more than CUTOFF nats below the prior's (always summed) changes the
  // mixture by less than e^-CUTOFF relative. Term i is at most peak[i] − ½·(distance / σ_i)², so components farther
  // than reach(prior term) from the value (found by binary search in the sorted means) need not be computed.
  const CUTOFF = 50;
  let maxObsSigma = 0;
  let peakMax = -Infinity;
  for (let i = 0; i < K; i++) {
    maxObsSigma = Math.max(maxObsSigma, cSigma[i]!);
    peakMax = Math.max(peakMax, q === undefined ? constant[i]! : logW[i]! - logAccept[i]!);
  }
  const term = (i: number, y: number, lo: number, hi: number): number => {
    if (q === undefined) {
      const z = (y - cMu[i]!) * invS[i]!;
      return constant[i]! - 0.5 * z * z; // + logPhi(z), its constant folded into `constant`
    }
    return logW[i]! + logGaussMass((lo - cMu[i]!) * invS[i]!, (hi - cMu[i]!) * invS[i]!) - logAccept[i]!;
  };

  return {
    sample(rng, size) {
      const out: number[] = [];
      for (let s = 0; s < size; s++) {
        const i = pickIndex(cum, rng.next());
        const z = truncnormStd(a[i]!, b[i]!, rng.next());
        out.push(fromInternal(dist, cMu[i]! + cSigma[i]! * z));
      }
      return out;
    },
    logPdf(values) {
      return values.map((x) => {
        const y = toInternal(dist, x);
        const lo = q === undefined ? 0 : Math.max(y - q / 2, low);
        const hi = q === undefined ? 0 : Math.min(y + q / 2, high);
        const prior = term(K, y, lo, hi);
        // Mass bound for a grid cell at distance d from the mean: ≤ exp(−½((d − q/2)/σ)²).
        const reach = (q === undefined ? 0 : q / 2) + maxObsSigma * Math.sqrt(2 * Math.max(0, peakMax - prior + CUTOFF));
        const from = lowerBound(sortedMus, y - reach, 0, K);
        const to = lowerBound(sortedMus, y + reach, from, K);
        let count = 0;
        let max = prior;
        for (let i = from; i < to; i++) {
          const t = term(i, y, lo, hi);
          terms[count++] = t;
          if (t > max) max = t;
        }
        let sum = Math.exp(prior - max);
        for (let c = 0; c < count; c++) sum += Math.exp(terms[c]! - max);
        return max + Math.log(sum);
      });
    },
  };
}
