/**
 * Evaluating a `tune` node. A study is a node that expands step by step: each evaluation reads its trials (the
 * children `id[k]`, their params in their specs, their outcomes in their outputs), asks the sampler for params to
 * fill the free slots (up to `parallelism` running, `trials` in all), and creates those trials as task nodes. The
 * machine wakes the node again as soon as any trial ends (see RunMachine.settle), not when all have.
 *
 * Crash safety comes from the store: a trial's params are written with its node before it can start, and its
 * outcome with its finish. After a crash the node is evaluated again from what was committed: finished trials are
 * kept, unfinished ones run again with the same params, and new params are drawn for trial k from the seed, k and
 * the finished trials — the sampler keeps no other state (see src/tuning/trial.ts).
 */
import { mapChildId, type NodeSpec } from '../spec/graph.ts';
import type { EvalContext, Evaluation } from './evaluate.ts';
import type { MachineNode, RunMachine } from './machine.ts';
import type { TrialRequest } from '../ports/executor.ts';
import type { Binding } from '../sdk/refs.ts';
import { GridSampler } from '../tuning/grid.ts';
import { trialRng } from '../tuning/random.ts';
import { bestTrial, checkStudy, makeSampler, type StudyResult, type StudyTrial, type TrialOutcome } from '../tuning/study.ts';
import type { Trial } from '../tuning/trial.ts';

const FAILED = new Set(['failed', 'upstream_failed', 'cancelled', 'skipped']);

/** The params a trial node was created with. */
export function trialParams(spec: NodeSpec): unknown {
  const input = spec.input;
  if (input && 'obj' in input) {
    const p = input.obj.params;
    return p && 'lit' in p ? p.lit : undefined;
  }
  return input && 'lit' in input ? (input.lit as { params?: unknown } | undefined)?.params : undefined;
}

function trialInput(template: Binding, params: unknown): Binding {
  if ('obj' in template) return { obj: { ...template.obj, params: { lit: params } } };
  return { lit: { ...(('lit' in template ? template.lit : {}) as object), params } };
}

/** The study's trials as samplers and pruners see them, with the table rows of the finished ones. */
export async function readTrials(node: MachineNode, ctx: Pick<EvalContext, 'machine' | 'values'>): Promise<{ trials: Trial[]; rows: (StudyTrial & { output?: unknown })[]; running: number }> {
  const trials: Trial[] = [];
  const rows: (StudyTrial & { output?: unknown })[] = [];
  let running = 0;
  for (let k = 0; k < (node.expansion?.count ?? 0); k++) {
    const id = mapChildId(node.spec.id, k);
    const child = ctx.machine.get(id);
    const params = trialParams(child.spec);
    if (child.phase === 'succeeded') {
      const o = (await ctx.values.output(id)) as TrialOutcome;
      const value = o.value ?? undefined;
      trials.push({ params, state: o.state, ...(value !== undefined ? { value } : {}), intermediate: o.intermediate });
      rows.push({ number: k, nodeId: id, state: o.state, params: params as Record<string, unknown>, ...(value !== undefined ? { value } : {}), intermediate: o.intermediate, ...(o.state === 'complete' ? { output: o.output } : {}) });
    } else if (FAILED.has(child.phase)) {
      trials.push({ params, state: 'failed' });
      rows.push({ number: k, nodeId: id, state: 'failed', params: params as Record<string, unknown>, intermediate: [], ...(child.error ? { error: child.error } : {}) });
    } else {
      running++;
      trials.push({ params, state: 'running' });
    }
  }
  return { trials, rows, running };
}

/**
 * What trial k is suggested from: trials 0..k−p (p = parallelism) with their outcomes, and the later ones as
 * running. Trial k is created only once trials 0..k−p have finished, so this is the same on every run of the study
 * whatever the timing: a repeated study draws the same params (and is answered by the cache), and its pruner sees
 * the same trials (`prunerHistory`).
 */
export function suggestionHistory(trials: readonly Trial[], k: number, parallelism: number): Trial[] {
  return trials.slice(0, k).map((t, i) => (i <= k - parallelism ? t : { params: t.params, state: 'running' }));
}

/** The finished trials a trial's pruner compares it with: trials 0..k−p, as for its suggestion. */
export function prunerHistory(finished: readonly (Trial | undefined)[], k: number, parallelism: number): Trial[] {
  return finished.slice(0, Math.max(0, k - parallelism + 1)).filter((t): t is Trial => t !== undefined);
}

export async function evaluateTune(node: MachineNode, ctx: EvalContext): Promise<Evaluation> {
  const spec = node.spec;
  const study = spec.tune!;
  const space = checkStudy(study, `Study "${spec.id}"`);
  const { trials, rows, running } = await readTrials(node, ctx);
  ctx.studies.set(spec.id, trials.map((t) => (t.state === 'running' ? undefined : t)));
  const created = trials.length;
  const p = study.parallelism;
  const sampler = makeSampler(study.sampler, study.direction);
  let slots = Math.min(p - running, study.trials - created);
  if (sampler instanceof GridSampler) slots = Math.min(slots, sampler.remaining(trials, space));
  if (slots <= 0 && running === 0) return finishStudy(node, rows, ctx);
  // Trial k waits for trials 0..k−p (see suggestionHistory): at most up to the first one still running.
  const firstRunning = trials.findIndex((t) => t.state === 'running');
  if (firstRunning >= 0) slots = Math.min(slots, firstRunning + p - created);

  const nodes: NodeSpec[] = [];
  for (let i = 0; i < Math.max(0, slots); i++) {
    const k = created + i;
    const params = sampler.suggest(suggestionHistory(trials, k, p), space, trialRng(study.seed, k));
    trials.push({ params, state: 'running' });
    nodes.push({
      id: mapChildId(spec.id, k),
      kind: 'task',
      task: spec.task!,
      input: trialInput(spec.input ?? { lit: {} }, params),
      ...(spec.options ? { options: spec.options } : {}),
      parent: spec.id,
      trial: k,
    });
  }
  return { kind: 'expand', nodes, expansion: { count: created + nodes.length }, newDeps: nodes.map((n) => n.id) };
}

async function finishStudy(node: MachineNode, rows: (StudyTrial & { output?: unknown })[], ctx: EvalContext): Promise<Evaluation> {
  const study = node.spec.tune!;
  const best = bestTrial(rows, study.direction);
  const counts = { complete: 0, pruned: 0, failed: 0 };
  for (const r of rows) counts[r.state]++;
  if (best < 0) {
    const firstError = rows.find((r) => r.error)?.error;
    return {
      kind: 'fail',
      message: `Study "${node.spec.id}": none of its ${rows.length} trials completed (${counts.pruned} pruned, ${counts.failed} failed)${firstError ? `; first failure: ${firstError.split('\n')[0]}` : ''}. Fix the objective (see \`baton logs <run> ${node.spec.id}[0]\`) or loosen the pruner, then resume the run.`,
    };
  }
  const b = rows[best]!;
  const result: StudyResult = {
    direction: study.direction,
    ...(study.metric !== undefined ? { metric: study.metric } : {}),
    best: { number: b.number, nodeId: b.nodeId, params: b.params, value: b.value!, output: b.output },
    trials: rows.map(({ output: _o, ...r }) => r),
    counts,
  };
  return { kind: 'succeed', output: await ctx.values.encode({ lit: result }) };
}

/**
 * What a trial's cached outcome depends on besides its input: how its study turns outputs into outcomes. A pruned
 * outcome depends on the trials the pruner compared with (0..k−p), so a cached one must share them: named by their
 * stored outcomes' hashes, not their contents, so a key costs O(k) short strings.
 */
export function trialCacheContext(machine: RunMachine, nodeId: string): string | undefined {
  const spec = machine.get(nodeId).spec;
  if (spec.trial === undefined || !spec.parent) return undefined;
  const s = machine.get(spec.parent).spec.tune!;
  const history: string[] = [];
  if (s.pruner) for (let i = 0; i <= spec.trial - s.parallelism; i++) {
    const t = machine.get(mapChildId(spec.parent, i));
    history.push(t.output?.hash ?? t.phase);
  }
  return JSON.stringify({ metric: s.metric ?? null, direction: s.direction, pruner: s.pruner ?? null, history });
}

/** A trial's view of its study (see TrialRequest), taken now from the study's finished trials. */
export function trialRequest(machine: RunMachine, studies: ReadonlyMap<string, readonly (Trial | undefined)[]>, nodeId: string): TrialRequest | undefined {
  const spec = machine.get(nodeId).spec;
  if (spec.trial === undefined || !spec.parent) return undefined;
  const s = machine.get(spec.parent).spec.tune!;
  return {
    study: spec.parent,
    number: spec.trial,
    direction: s.direction,
    ...(s.metric !== undefined ? { metric: s.metric } : {}),
    ...(s.pruner ? { pruner: s.pruner } : {}),
    history: s.pruner ? prunerHistory(studies.get(spec.parent) ?? [], spec.trial, s.parallelism) : [],
  };
}
