/**
 * Reading studies back from a run, finished or still running: the trial table (params, state, value, reports),
 * the best trial so far and the optimization history (best value after each trial, as Optuna's
 * plot_optimization_history draws it). Used by `baton study` and by the client API (`run.study()`).
 */
import { BatonError } from '../errors.ts';
import { mapChildId } from '../spec/graph.ts';
import { trialParams } from '../engine/tune.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { MetadataStore, NodeRecord, NodeState } from '../ports/metadata.ts';
import { bestTrial, type StudySpec, type StudyTrial, type TrialOutcome } from '../tuning/study.ts';
import { decodeShallow } from '../values/codec.ts';

export type TrialRow<P = Record<string, unknown>> = Omit<StudyTrial<P>, 'state'> & {
  /** `cancelled`: its run was cancelled while it ran (a resume runs it again). */
  state: StudyTrial['state'] | 'running' | 'pending' | 'cancelled';
  attempts: number;
  startedAt?: number;
  endedAt?: number;
};

export interface StudyView<P = Record<string, unknown>> {
  runId: string;
  /** The study's node id. */
  id: string;
  /** The objective task. */
  task: string;
  state: NodeState;
  spec: StudySpec;
  trials: TrialRow<P>[];
  best?: { number: number; nodeId: string; params: P; value: number };
  /** Per finished trial in number order: its value and the best value so far (complete trials only). */
  history: { number: number; state: TrialRow['state']; value?: number; best?: number }[];
  counts: Record<TrialRow['state'], number>;
}

/** The tune nodes of a run. */
export function studiesOf(nodes: readonly NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.spec.kind === 'tune');
}

export async function readStudy(store: MetadataStore, artifacts: ArtifactStore, runId: string, studyId?: string): Promise<StudyView> {
  const nodes = await store.getNodes(runId);
  const studies = studiesOf(nodes);
  if (studies.length === 0) throw new BatonError('not_found', `Run ${runId} has no study (no tune(...) node). Studies are created by tune() in a workflow.`);
  let node: NodeRecord | undefined;
  if (studyId === undefined) {
    if (studies.length > 1) throw new BatonError('usage', `Run ${runId} has ${studies.length} studies: ${studies.map((s) => s.id).join(', ')}. Name one.`);
    node = studies[0];
  } else {
    node = studies.find((s) => s.id === studyId);
    if (!node) throw new BatonError('not_found', `Run ${runId} has no study "${studyId}". Its studies: ${studies.map((s) => s.id).join(', ')}.`);
  }
  const study = node!;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const trials: TrialRow[] = [];
  for (let k = 0; k < (study.expansion?.count ?? 0); k++) {
    const t = byId.get(mapChildId(study.id, k));
    if (!t) continue;
    const base = { number: k, nodeId: t.id, params: trialParams(t.spec) as Record<string, unknown>, attempts: t.attempts, ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}), ...(t.endedAt !== undefined ? { endedAt: t.endedAt } : {}) };
    if (t.state === 'succeeded' && t.output) {
      const o = (await decodeShallow(t.output, artifacts)) as TrialOutcome;
      trials.push({ ...base, state: o.state, ...(o.value !== null ? { value: o.value } : {}), intermediate: o.intermediate });
    } else if (t.state === 'cancelled') {
      trials.push({ ...base, state: 'cancelled', intermediate: [] });
    } else if (t.state === 'failed' || t.state === 'upstream_failed' || t.state === 'skipped') {
      trials.push({ ...base, state: 'failed', intermediate: [], ...(t.error ? { error: t.error } : {}) });
    } else {
      trials.push({ ...base, state: t.state === 'pending' ? 'pending' : 'running', intermediate: [] });
    }
  }
  const spec = study.spec.tune!;
  const b = bestTrial(trials.map((t) => ({ state: t.state === 'complete' ? 'complete' : 'failed', ...(t.value !== undefined ? { value: t.value } : {}) })), spec.direction);
  const history: StudyView['history'] = [];
  let best: number | undefined;
  for (const t of trials) {
    if (t.state === 'running' || t.state === 'pending' || t.state === 'cancelled') continue;
    if (t.state === 'complete' && t.value !== undefined && (best === undefined || (spec.direction === 'minimize' ? t.value < best : t.value > best))) best = t.value;
    history.push({ number: t.number, state: t.state, ...(t.value !== undefined ? { value: t.value } : {}), ...(best !== undefined ? { best } : {}) });
  }
  const counts = { complete: 0, pruned: 0, failed: 0, running: 0, pending: 0, cancelled: 0 };
  for (const t of trials) counts[t.state]++;
  const bt = b >= 0 ? trials[b]! : undefined;
  return {
    runId,
    id: study.id,
    task: study.spec.task!,
    state: study.state,
    spec,
    trials,
    ...(bt ? { best: { number: bt.number, nodeId: bt.nodeId, params: bt.params, value: bt.value! } } : {}),
    history,
    counts,
  };
}
