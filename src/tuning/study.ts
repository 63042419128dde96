/**
 * A study as plain data: the JSON a `tune` node stores (space, direction, sampler, pruner, budget, seed), the
 * factories that turn it into a sampler and a pruner, and what a finished study reports (best trial, trial table).
 * Pure: the engine (src/engine/tune.ts) and the trial runtime (src/runtime/trial.ts) both build on it.
 */
import { BatonError } from '../errors.ts';
import { GridSampler } from './grid.ts';
import { MedianPruner, SuccessiveHalvingPruner } from './pruners.ts';
import { RandomSampler } from './random-sampler.ts';
import { space as validateSpace, type ParamsOf, type Shape, type Space } from './space.ts';
import { TpeSampler } from './tpe.ts';
import type { Direction, Pruner, Sampler, Trial, TrialState } from './trial.ts';

export type { SamplerSpec, PrunerSpec, StudySpec } from '../spec/study.ts';
import type { SamplerSpec, PrunerSpec, StudySpec } from '../spec/study.ts';

/** TPE with Optuna's defaults (10 random start-up trials, 24 EI candidates). */
export function tpe(options: Omit<Extract<SamplerSpec, { type: 'tpe' }>, 'type'> = {}): SamplerSpec {
  return { type: 'tpe', ...options };
}
export function randomSearch(): SamplerSpec {
  return { type: 'random' };
}
export function grid(options: Omit<Extract<SamplerSpec, { type: 'grid' }>, 'type'> = {}): SamplerSpec {
  return { type: 'grid', ...options };
}
/** Optuna's MedianPruner: stop a trial whose best report is worse than the median of completed trials at that step. */
export function medianPruner(options: Omit<Extract<PrunerSpec, { type: 'median' }>, 'type'> = {}): PrunerSpec {
  return { type: 'median', ...options };
}
/** Asynchronous successive halving (ASHA), as Optuna's SuccessiveHalvingPruner. */
export function successiveHalving(options: Omit<Extract<PrunerSpec, { type: 'successive-halving' }>, 'type'> = {}): PrunerSpec {
  return { type: 'successive-halving', ...options };
}

export function makeSampler(spec: SamplerSpec, direction: Direction): Sampler {
  switch (spec.type) {
    case 'tpe': {
      const { type: _t, ...o } = spec;
      return new TpeSampler({ ...o, direction });
    }
    case 'random':
      return new RandomSampler();
    case 'grid': {
      const { type: _t, ...o } = spec;
      return new GridSampler(o);
    }
    default:
      throw new BatonError('workflow_invalid', `unknown sampler type ${JSON.stringify((spec as { type: unknown }).type)}: use tpe(), randomSearch() or grid()`);
  }
}

export function makePruner(spec: PrunerSpec, direction: Direction): Pruner {
  switch (spec.type) {
    case 'median': {
      const { type: _t, ...o } = spec;
      return new MedianPruner({ ...o, direction });
    }
    case 'successive-halving': {
      const { type: _t, ...o } = spec;
      return new SuccessiveHalvingPruner({ ...o, direction });
    }
    default:
      throw new BatonError('workflow_invalid', `unknown pruner type ${JSON.stringify((spec as { type: unknown }).type)}: use medianPruner() or successiveHalving()`);
  }
}

/** Checks a study spec (errors name the field and the fix) and returns its validated space. */
export function checkStudy(spec: StudySpec, where: string): Space {
  if (spec.direction !== 'minimize' && spec.direction !== 'maximize') throw new BatonError('workflow_invalid', `${where}: direction must be 'minimize' or 'maximize', got ${JSON.stringify(spec.direction)}.`);
  if (!Number.isInteger(spec.trials) || spec.trials < 1) throw new BatonError('workflow_invalid', `${where}: trials must be a whole number ≥ 1, got ${spec.trials}.`);
  if (!Number.isInteger(spec.parallelism) || spec.parallelism < 1) throw new BatonError('workflow_invalid', `${where}: parallelism must be a whole number ≥ 1, got ${spec.parallelism}.`);
  makeSampler(spec.sampler, spec.direction);
  if (spec.pruner) makePruner(spec.pruner, spec.direction);
  return validateSpace(spec.space);
}

/** What a trial attempt returns to the engine (its stored output): the objective's output wrapped with its state. */
export interface TrialOutcome {
  state: 'complete' | 'pruned';
  /** The objective value (complete) or the last reported value (pruned; null if it reported none). */
  value: number | null;
  intermediate: [number, number][];
  /** The objective task's own output (complete trials). */
  output?: unknown;
}

/** One row of a study's trial table. */
export type StudyTrial<P = Record<string, unknown>> = {
  number: number;
  /** The trial's node in the run, e.g. `train-study[3]`. */
  nodeId: string;
  state: Exclude<TrialState, 'running'>;
  params: P;
  value?: number;
  intermediate: [number, number][];
  error?: string;
};

/** A finished study: the `tune(...)` node's output. (Types, not interfaces, so that Refs reach their fields.) */
export type StudyResult<P = Record<string, unknown>, O = unknown> = {
  direction: Direction;
  metric?: string;
  best: { number: number; nodeId: string; params: P; value: number; output: O };
  trials: StudyTrial<P>[];
  counts: { complete: number; pruned: number; failed: number };
};

/** The index of the best complete trial (ties: the earliest), or -1. */
export function bestTrial(trials: readonly Pick<Trial, 'state' | 'value'>[], direction: Direction): number {
  let best = -1;
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    if (t.state !== 'complete' || t.value === undefined || Number.isNaN(t.value)) continue;
    if (best < 0 || (direction === 'minimize' ? t.value < trials[best]!.value! : t.value > trials[best]!.value!)) best = i;
  }
  return best;
}

/** The sampled params of a trial, typed by its space. */
export type StudyParams<S extends Shape> = ParamsOf<S>;
