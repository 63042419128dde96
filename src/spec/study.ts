/**
 * A hyperparameter study as plain data: its search space's shape, samplers and pruners by name and options, and
 * what samplers and pruners see of a trial. Stored in a `tune` node's spec and reported by workers, so it sits
 * below the engine, the ports and the tuning algorithms (src/tuning/) that interpret it.
 */

/** A categorical choice: a primitive, so it can be stored as JSON and compared with ===. */
export type Choice = string | number | boolean | null;

export interface FloatParam {
  readonly type: 'float';
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  /** Values are lo + k·step (never with log). */
  readonly step: number | undefined;
}

export interface IntParam {
  readonly type: 'int';
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  /** Values are lo + k·step; 1 unless given (must be 1 with log). */
  readonly step: number;
}

export interface CategoricalParam<C extends Choice = Choice> {
  readonly type: 'categorical';
  readonly choices: readonly C[];
}

/** One of several named branches, each with its own parameters; `key` names the branch in the sampled object. */
export interface ConditionalParam<K extends string = string, B extends Branches = Branches> {
  readonly type: 'conditional';
  readonly key: K;
  readonly branches: B;
}

export type Param = FloatParam | IntParam | CategoricalParam | ConditionalParam;
export interface Shape {
  readonly [name: string]: Param;
}
export interface Branches {
  readonly [branch: string]: Shape;
}

/** A leaf distribution as samplers see it. A conditional's branch choice is a categorical over branch names. */
export type Distribution = FloatParam | IntParam | CategoricalParam;

export type TrialState = 'complete' | 'pruned' | 'failed' | 'running';
export type Direction = 'minimize' | 'maximize';

export interface Trial<P = unknown> {
  params: P;
  /** The objective value of a complete trial. */
  value?: number;
  state: TrialState;
  /** Values reported during the trial (`ctx.report(step, value)`), as [step, value] in reporting order. */
  intermediate?: readonly (readonly [number, number])[];
}

/** Samplers a stored study can name; options are JSON (no functions), so a study resumes from its stored spec. */
export type SamplerSpec =
  | { type: 'tpe'; startupTrials?: number; eiCandidates?: number; priorWeight?: number; considerMagicClip?: boolean; considerEndpoints?: boolean; normalizeKernels?: boolean }
  | { type: 'random' }
  | { type: 'grid'; floatPoints?: number; maxPoints?: number };

export type PrunerSpec =
  | { type: 'median'; startupTrials?: number; warmupSteps?: number; intervalSteps?: number; minTrials?: number }
  | { type: 'successive-halving'; minResource?: number | 'auto'; reductionFactor?: number; minEarlyStoppingRate?: number; bootstrapCount?: number };

export interface StudySpec {
  space: Shape;
  direction: Direction;
  /** The numeric field of the objective's output that is the trial's value; none: the output is the number. */
  metric?: string;
  /** How many trials to run (fewer when a grid is exhausted first). */
  trials: number;
  /** Most trials running at once (resources and pools may allow fewer). */
  parallelism: number;
  sampler: SamplerSpec;
  pruner?: PrunerSpec;
  seed: number | string;
}

