/**
 * Thrown by `ctx.report(step, value)` when the study's pruner stops the trial. The trial ends as `pruned` (not
 * failed) with what it reported; let it propagate (re-throw it if you catch errors around a training loop).
 */
const BRAND = Symbol.for('baton.trialPruned');

export class TrialPruned extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly step: number,
    readonly value: number,
  ) {
    super(`Trial pruned at step ${step} (reported ${value}).`);
    this.name = 'TrialPruned';
  }

  /** True for a TrialPruned from any copy of this module (worker bundles may load it twice). */
  static is(err: unknown): err is TrialPruned {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
  }
}
