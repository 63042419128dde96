/**
 * Pruners: stop unpromising trials early from the values they report (`ctx.report(step, value)`), as Optuna's
 * MedianPruner and SuccessiveHalvingPruner (asynchronous successive halving, ASHA) do. Both are stateless: every
 * decision is a function of the trial's reports and the study's trials (see trial.ts).
 */
import { BatonError } from '../errors.ts';
import type { Direction, Pruner, Trial } from './trial.ts';

/** The value the trial reported at `step` (the last one if reported twice). */
export function reportAt(t: Trial, step: number): number | undefined {
  let v: number | undefined;
  for (const [s, x] of t.intermediate ?? []) if (s === step) v = x;
  return v;
}

export interface MedianPrunerOptions {
  direction?: Direction;
  /** No pruning until this many trials completed. Default 5. */
  startupTrials?: number;
  /** No pruning before this step. Default 0. */
  warmupSteps?: number;
  /** Check every `intervalSteps` steps after the warm-up. Default 1. */
  intervalSteps?: number;
  /** At least this many completed trials must have reported at the step. Default 1. */
  minTrials?: number;
}

/**
 * Prunes a trial whose best value so far is worse than the median of the completed trials' values at the same
 * step (Optuna's MedianPruner). NaN reports are ignored; a trial that reported only NaN is pruned.
 */
export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly direction: Direction;
  readonly startupTrials: number;
  readonly warmupSteps: number;
  readonly intervalSteps: number;
  readonly minTrials: number;

  constructor(options: MedianPrunerOptions = {}) {
    this.direction = options.direction ?? 'minimize';
    this.startupTrials = options.startupTrials ?? 5;
    this.warmupSteps = options.warmupSteps ?? 0;
    this.intervalSteps = options.intervalSteps ?? 1;
    this.minTrials = options.minTrials ?? 1;
    if (this.startupTrials < 0 || this.warmupSteps < 0) throw new BatonError('workflow_invalid', 'MedianPruner: startupTrials and warmupSteps must be ≥ 0');
    if (!(this.intervalSteps >= 1) || !(this.minTrials >= 1)) throw new BatonError('workflow_invalid', 'MedianPruner: intervalSteps and minTrials must be ≥ 1');
  }

  shouldPrune(trial: Trial, history: readonly Trial[], step: number): boolean {
    const completed = history.filter((t) => t !== trial && t.state === 'complete');
    if (completed.length === 0 || completed.length < this.startupTrials) return false;
    if (step < this.warmupSteps) return false;
    const reports = trial.intermediate ?? [];
    if (reportAt(trial, step) === undefined) return false;
    // Only the first report in each interval is checked (Optuna's _is_first_in_interval_step).
    const intervalStart = Math.floor((step - this.warmupSteps) / this.intervalSteps) * this.intervalSteps + this.warmupSteps;
    const previous = reports.reduce((m, [s]) => (s !== step && s > m ? s : m), -1);
    if (previous >= intervalStart) return false;

    const values = reports.filter(([s, v]) => s <= step && !Number.isNaN(v)).map(([, v]) => v);
    if (values.length === 0) return true; // only NaN reported
    const best = this.direction === 'minimize' ? Math.min(...values) : Math.max(...values);
    const others = completed.map((t) => reportAt(t, step)).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (others.length < this.minTrials) return false;
    const median = percentile(others, 50);
    return this.direction === 'minimize' ? best > median : best < median;
  }
}

/** numpy.percentile with linear interpolation. */
export function percentile(values: readonly number[], p: number): number {
  const xs = [...values].sort((a, b) => a - b);
  const pos = ((xs.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (pos - lo);
}

export interface SuccessiveHalvingOptions {
  direction?: Direction;
  /**
   * Steps a trial runs before its first rung. 'auto' (the default, as in Optuna): the largest last step of the
   * completed trials / 100 (at least 1); no pruning before a trial completed.
   */
  minResource?: number | 'auto';
  /** η: a trial is promoted past a rung when it is in the top 1/η of the trials that reached it. Default 3. */
  reductionFactor?: number;
  /** s: rung r ends at step minResource · η^(s + r). Default 0. */
  minEarlyStoppingRate?: number;
  /** Prune trials reaching a rung until more than this many trials have reached it. Default 0. */
  bootstrapCount?: number;
}

/**
 * Asynchronous successive halving (ASHA; Optuna's SuccessiveHalvingPruner). Rung r ends at step
 * minResource · η^(s + r); when a trial reports at or past that step it competes with every trial that reached rung r
 * before (their value at the first step they reported at or past it) and continues only if it ranks in the top
 * ⌊k/η⌋ of those k values (the best one while k < η).
 *
 * Rungs are derived from the reports, not stored: the caller must call shouldPrune after every report, and a trial
 * that passed a rung is one that reported again later.
 */
export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'successive-halving';
  readonly direction: Direction;
  readonly minResource: number | 'auto';
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;

  constructor(options: SuccessiveHalvingOptions = {}) {
    this.direction = options.direction ?? 'minimize';
    this.minResource = options.minResource ?? 'auto';
    this.reductionFactor = options.reductionFactor ?? 3;
    this.minEarlyStoppingRate = options.minEarlyStoppingRate ?? 0;
    this.bootstrapCount = options.bootstrapCount ?? 0;
    if (this.minResource !== 'auto' && !(this.minResource >= 1)) throw new BatonError('workflow_invalid', `SuccessiveHalvingPruner: minResource must be ≥ 1 or 'auto', got ${this.minResource}`);
    if (!(this.reductionFactor >= 2)) throw new BatonError('workflow_invalid', `SuccessiveHalvingPruner: reductionFactor must be ≥ 2, got ${this.reductionFactor}`);
    if (!(this.minEarlyStoppingRate >= 0) || !(this.bootstrapCount >= 0)) throw new BatonError('workflow_invalid', 'SuccessiveHalvingPruner: minEarlyStoppingRate and bootstrapCount must be ≥ 0');
  }

  /** The step at which rung `rung` ends, or undefined while 'auto' has no completed trial to go by. */
  rungStep(rung: number, history: readonly Trial[]): number | undefined {
    let r = this.minResource;
    if (r === 'auto') {
      const last = history.filter((t) => t.state === 'complete' && t.intermediate?.length).map((t) => Math.max(...t.intermediate!.map(([s]) => s)));
      if (last.length === 0) return undefined;
      r = Math.max(Math.floor(Math.max(...last) / 100), 1);
    }
    return r * this.reductionFactor ** (this.minEarlyStoppingRate + rung);
  }

  shouldPrune(trial: Trial, history: readonly Trial[], step: number): boolean {
    const value = reportAt(trial, step);
    if (value === undefined) return false;
    const others = history.filter((t) => t !== trial);
    if (this.rungStep(0, others) === undefined) return false;
    // Rungs already passed: those whose end an earlier report had reached.
    const earlier = (trial.intermediate ?? []).reduce((m, [s]) => (s < step && s > m ? s : m), -Infinity);
    let rung = 0;
    while (this.rungStep(rung, others)! <= earlier) rung++;
    for (; step >= this.rungStep(rung, others)!; rung++) {
      if (Number.isNaN(value)) return true;
      const end = this.rungStep(rung, others)!;
      const competing = others.flatMap((t) => {
        const v = firstReportFrom(t, end);
        return v === undefined ? [] : [v];
      });
      competing.push(value);
      if (competing.length <= this.bootstrapCount) return true;
      if (!promotable(value, competing, this.reductionFactor, this.direction)) return true;
    }
    return false;
  }
}

/** The value a trial reported at the first step ≥ `step` (its value at the rung ending there). */
function firstReportFrom(t: Trial, step: number): number | undefined {
  let best: readonly [number, number] | undefined;
  for (const r of t.intermediate ?? []) if (r[0] >= step && (!best || r[0] < best[0])) best = r;
  return best?.[1];
}

function promotable(value: number, competing: number[], eta: number, direction: Direction): boolean {
  let idx = Math.floor(competing.length / eta) - 1;
  if (idx === -1) idx = 0;
  const sorted = competing.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return direction === 'maximize' ? value >= sorted[sorted.length - 1 - idx]! : value <= sorted[idx]!;
}
