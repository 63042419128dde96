/**
 * `tune(objective, { space, direction, trials, parallelism, sampler, pruner })`: hyperparameter tuning as a workflow
 * construct. Each trial is a run of the objective task with `params` drawn from the space; trials are ordinary
 * tasks (their own resources, retries, cache, logs, tracking runs) run in parallel within `parallelism` and the
 * engine's limits. The study's state is its stored trials, so a crashed study resumes with every finished trial.
 */
import type { z } from 'zod';
import type { Direction } from '../tuning/trial.ts';
import type { ParamsOf, Shape, Space } from '../tuning/space.ts';
import { tpe, type PrunerSpec, type SamplerSpec, type StudyResult } from '../tuning/study.ts';
import { currentBuilder } from './build.ts';
import type { Ref, Wire } from './refs.ts';
import type { CallOptions, Task } from './task.ts';

type NumericKeys<T> = T extends object ? { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T] & string : never;

export interface TuneOptions<S extends Shape, In, Out> extends Pick<CallOptions, 'resources' | 'pool' | 'retries' | 'timeoutMs' | 'cache' | 'executor'> {
  /** The search space: `space({...})` or its bare shape. */
  space: Space<S> | S;
  /** Whether lower or higher objective values are better. */
  direction: Direction;
  /** How many trials (fewer if a grid runs out first). */
  trials: number;
  /** Most trials running at once. @default 1 */
  parallelism?: number;
  /** @default tpe() (Optuna's defaults) */
  sampler?: SamplerSpec;
  /** Stops unpromising trials early from what they report with `ctx.report(step, value)`. @default none */
  pruner?: PrunerSpec;
  /** The study's seed: the same seed and the same finished trials give the same suggestions. @default 0 */
  seed?: number | string;
  /** The objective's other inputs (everything but `params`), wired like a task call's. */
  inputs?: Wire<Omit<In, 'params'>>;
  /** The numeric output field that is the objective value; leave out when the task returns the number itself. */
  metric?: NumericKeys<Out>;
  /** Node id of the study. @default `<task>-study` */
  id?: string;
}

/** Checks at compile time that the space's params fit the objective's `params` input. */
type ObjectiveFor<S extends Shape, I extends z.ZodType> = z.input<I> extends { params: infer P } ? (ParamsOf<S> extends P ? unknown : { 'the space does not match the objective task\'s params input': P }) : { 'the objective task must take a params input': never };

/**
 * Tunes `objective` over `space`: the result (a Ref) holds the best trial (params, value, and the objective's
 * output) and the trial table. Trials are the nodes `<id>[0]`, `<id>[1]`, … of the run.
 */
export function tune<S extends Shape, I extends z.ZodType, O extends z.ZodType>(
  objective: Task<I, O> & ObjectiveFor<S, I>,
  options: TuneOptions<S, z.input<I>, z.output<O>>,
): Ref<StudyResult<ParamsOf<S>, z.output<O>>> {
  const { space, direction, trials, parallelism, sampler, pruner, seed, inputs, metric, id, ...callOptions } = options;
  // A Space has a `leaves` array; a bare shape's values are all params (objects with a `type`).
  const shape = Array.isArray((space as Space<S>).leaves) ? (space as Space<S>).shape : (space as S);
  return currentBuilder('tune').addTune(
    objective.definition,
    inputs ?? {},
    {
      space: shape,
      direction,
      ...(metric !== undefined ? { metric } : {}),
      trials,
      parallelism: parallelism ?? 1,
      sampler: sampler ?? tpe(),
      ...(pruner ? { pruner } : {}),
      seed: seed ?? 0,
    },
    { ...callOptions, ...(id !== undefined ? { id } : {}) },
  ) as Ref<StudyResult<ParamsOf<S>, z.output<O>>>;
}
