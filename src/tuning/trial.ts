/**
 * What samplers and pruners see of a study: its trials (finished, pruned, failed or running) and the direction.
 *
 * Statelessness contract: `Sampler.suggest` and `Pruner.shouldPrune` are pure functions of their arguments. A
 * sampler's whole state is the study seed (through the `Rng` handed to it, see `trialRng` in random.ts) plus the
 * trials passed as history, so a study resumed after a crash, given the same seed and finished trials, continues
 * exactly as the uninterrupted study would have; nothing is kept between calls, nothing is lost and nothing repeated.
 */
import type { Rng } from './random.ts';
import type { ParamsOf, Space } from './space.ts';

import type { Direction, Trial, TrialState } from '../spec/study.ts';

export type { Direction, Trial, TrialState };

export interface Sampler {
  readonly name: string;
  /** The params of the next trial, from the study's trials so far (in creation order) and the trial's generator. */
  suggest<S extends Space>(history: readonly Trial[], space: S, rng: Rng): ParamsOf<S>;
}

export interface Pruner {
  readonly name: string;
  /**
   * Whether `trial` (running, its latest report at `step`) should stop now. `history` is the study's trials; the
   * trial itself may be among them (it is ignored there). Call it after every report: some pruners (successive
   * halving) read which rungs a trial passed from the steps it reported.
   */
  shouldPrune(trial: Trial, history: readonly Trial[], step: number): boolean;
}
