/**
 * Univariate TPE (tree-structured Parzen estimator), matching Optuna's TPESampler defaults: 10 random start-up
 * trials, then the finished trials split into "good" (the best gamma(n) = min(⌈0.1·n⌉, 25)) and "bad"; for each
 * active leaf independently, 24 candidates drawn from the good estimator l(x) and the one maximizing
 * log l(x) − log g(x) kept. Pruned trials count too, ranked after complete ones by how far they got (then by their
 * last reported value), as in Optuna. Conditional leaves use only the trials where they were active.
 *
 * Stateless: see trial.ts. Given the same history and the same `Rng` (e.g. `trialRng(seed, k)`), the suggestion is
 * the same, so a resumed study continues identically.
 */
import { BatonError } from '../errors.ts';
import { defaultWeights, parzenEstimator, type ParzenOptions } from './parzen.ts';
import type { Rng } from './random.ts';
import { sampleUniform } from './random-sampler.ts';
import { buildParams, flattenParams, type FlatParams, type ParamsOf, type Space } from './space.ts';
import type { Direction, Sampler, Trial } from './trial.ts';

export interface TpeOptions {
  direction?: Direction;
  /** Random trials before TPE starts (counting complete and pruned trials). Default 10. */
  startupTrials?: number;
  /** Candidates drawn from l(x) per leaf. Default 24. */
  eiCandidates?: number;
  /** How many of n finished trials are "good". Default min(⌈0.1·n⌉, 25). */
  gamma?: (n: number) => number;
  /** Weights of n observations, oldest first. Default Optuna's ramp (see parzen.ts). */
  weights?: (n: number) => number[];
  /** Weight of the prior component. Default 1. */
  priorWeight?: number;
  /** Lower-bound each bandwidth by range / min(100, n + 1) ("magic clip"). Default true. */
  considerMagicClip?: boolean;
  /** Let the outermost observations' bandwidths reach the bounds. Default false. */
  considerEndpoints?: boolean;
  /**
   * Score continuous leaves with normalized kernels (Optuna ≥ 3.5) instead of Optuna ≤ 3.4's unnormalized ones.
   * Default false: the unnormalized scoring found better optima on every function we tried (see parzen.ts).
   */
  normalizeKernels?: boolean;
}

/** Optuna's default gamma. */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

interface Observation {
  flat: FlatParams;
  /** Rank keys: −∞ for complete trials, −(last step) for pruned ones; then the signed value (lower is better). */
  stepKey: number;
  score: number;
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly direction: Direction;
  readonly startupTrials: number;
  readonly eiCandidates: number;
  readonly gamma: (n: number) => number;
  readonly parzen: ParzenOptions;

  constructor(options: TpeOptions = {}) {
    this.direction = options.direction ?? 'minimize';
    this.startupTrials = options.startupTrials ?? 10;
    this.eiCandidates = options.eiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.parzen = {
      priorWeight: options.priorWeight ?? 1,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      weights: options.weights ?? defaultWeights,
      normalizeKernels: options.normalizeKernels ?? false,
    };
    if (!(this.eiCandidates >= 1)) throw new BatonError('workflow_invalid', `TpeSampler: eiCandidates must be ≥ 1, got ${this.eiCandidates}`);
    if (!(this.parzen.priorWeight > 0)) throw new BatonError('workflow_invalid', `TpeSampler: priorWeight must be > 0, got ${this.parzen.priorWeight}`);
  }

  suggest<S extends Space>(history: readonly Trial[], space: S, rng: Rng): ParamsOf<S> {
    const obs = this.observations(history, space);
    if (obs.length < this.startupTrials) return buildParams(space, (leaf) => sampleUniform(leaf.dist, rng)).params as ParamsOf<S>;

    const nBelow = Math.max(0, Math.min(obs.length, this.gamma(obs.length)));
    const ranked = obs.map((_, i) => i).sort((i, j) => compare(obs[i]!, obs[j]!) || i - j);
    const isBelow = new Uint8Array(obs.length);
    for (let r = 0; r < nBelow; r++) isBelow[ranked[r]!] = 1;
    const below = obs.filter((_, i) => isBelow[i] === 1); // chronological order, as the weights expect
    const above = obs.filter((_, i) => isBelow[i] === 0);

    return buildParams(space, (leaf) => {
      const valuesOf = (group: Observation[]) => {
        const out: number[] = [];
        for (const o of group) {
          const v = o.flat.get(leaf.path);
          if (v !== undefined) out.push(v);
        }
        return out;
      };
      const l = parzenEstimator(leaf.dist, valuesOf(below), this.parzen);
      const g = parzenEstimator(leaf.dist, valuesOf(above), this.parzen);
      const candidates = l.sample(rng, this.eiCandidates);
      const ll = l.logPdf(candidates);
      const lg = g.logPdf(candidates);
      let best = 0;
      let bestScore = -Infinity;
      for (let i = 0; i < candidates.length; i++) {
        const s = ll[i]! - lg[i]!;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      return candidates[best]!;
    }).params as ParamsOf<S>;
  }

  /** Complete and pruned trials as ranked observations (failed and running trials are ignored). */
  private observations(history: readonly Trial[], space: Space): Observation[] {
    const sign = this.direction === 'minimize' ? 1 : -1;
    const out: Observation[] = [];
    for (const t of history) {
      if (t.state === 'complete') {
        if (typeof t.value !== 'number' || Number.isNaN(t.value)) continue;
        out.push({ flat: flattenParams(space, t.params), stepKey: -Infinity, score: sign * t.value });
      } else if (t.state === 'pruned') {
        const last = lastReport(t);
        if (!last) out.push({ flat: flattenParams(space, t.params), stepKey: 1, score: 0 });
        else out.push({ flat: flattenParams(space, t.params), stepKey: -last[0], score: Number.isNaN(last[1]) ? Infinity : sign * last[1] });
      }
    }
    return out;
  }
}

/** The report with the largest step. */
function lastReport(t: Trial): readonly [number, number] | undefined {
  let last: readonly [number, number] | undefined;
  for (const r of t.intermediate ?? []) if (!last || r[0] >= last[0]) last = r;
  return last;
}

const cmp = (x: number, y: number): number => (x < y ? -1 : x > y ? 1 : 0);
const compare = (p: Observation, q: Observation): number => cmp(p.stepKey, q.stepKey) || cmp(p.score, q.score);
