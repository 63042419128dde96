/**
 * The worker's side of a trial: `ctx.report(step, value)` records an intermediate value (and logs it as a metric),
 * asks the study's pruner whether to stop, and throws TrialPruned if so; at the end the objective's output is
 * wrapped into the TrialOutcome the engine stores. Outside a study, `ctx.report` only logs the metric.
 */
import { BatonError } from '../errors.ts';
import type { TrialRequest } from '../ports/executor.ts';
import type { TrackingLog } from '../sdk/context.ts';
import { TrialPruned } from '../sdk/trial-pruned.ts';
import { makePruner, type TrialOutcome } from '../tuning/study.ts';
import type { Pruner, Trial } from '../tuning/trial.ts';

export interface TrialRuntime {
  report(step: number, value: number): void;
  /** The outcome of a trial whose objective returned `output`, or an error message when it is not a number. */
  complete(output: unknown): { outcome: TrialOutcome } | { error: string };
  pruned(err: TrialPruned): TrialOutcome;
}

/** `params` flattened to dotted keys (conditional branches are objects), as tracking params. */
export function flatParams(params: unknown, prefix = '', into: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  if (params === null || typeof params !== 'object') return into;
  for (const [k, v] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object') flatParams(v, key, into);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') into[key] = v;
    else into[key] = String(v);
  }
  return into;
}

export function trialRuntime(req: TrialRequest | undefined, nodeId: string, input: unknown, log: TrackingLog): TrialRuntime {
  const intermediate: [number, number][] = [];
  const metricName = req?.metric ?? 'objective';
  let pruner: Pruner | undefined;
  if (req?.pruner) pruner = makePruner(req.pruner, req.direction);
  if (req) {
    log.params(flatParams((input as { params?: unknown } | undefined)?.params));
    log.tags({ 'baton.study': req.study, 'baton.trial': req.number });
  }
  const self: Trial = { params: (input as { params?: unknown } | undefined)?.params, state: 'running', intermediate };
  return {
    report(step, value) {
      if (!Number.isInteger(step) || step < 0) throw new BatonError('usage', `ctx.report(${step}, …) in "${nodeId}": the step must be a whole number ≥ 0 (e.g. the epoch).`);
      if (typeof value !== 'number') throw new BatonError('usage', `ctx.report(${step}, …) in "${nodeId}": the value must be a number; got ${typeof value}.`);
      intermediate.push([step, value]);
      log.metric(metricName, value, { step });
      if (pruner && pruner.shouldPrune(self, req!.history, step)) throw new TrialPruned(step, value);
    },
    complete(output) {
      const value = req?.metric === undefined ? output : (output as Record<string, unknown> | null)?.[req.metric];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        const what = req?.metric === undefined ? 'its output' : `its output field "${req.metric}"`;
        return { error: `Trial "${nodeId}" returned ${JSON.stringify(value) ?? 'undefined'} as ${what}; the objective must be a finite number. Return the number, or name the numeric output field with tune({ metric }).` };
      }
      log.tags({ 'baton.trial_state': 'complete' });
      if (req?.metric === undefined) log.metric(metricName, value, { step: lastStep(intermediate) + 1 });
      return { outcome: { state: 'complete', value, intermediate, output } };
    },
    pruned(err) {
      log.tags({ 'baton.trial_state': 'pruned' });
      return { state: 'pruned', value: Number.isFinite(err.value) ? err.value : null, intermediate };
    },
  };
}

function lastStep(intermediate: readonly (readonly [number, number])[]): number {
  return intermediate.reduce((m, [s]) => Math.max(m, s), -1);
}
