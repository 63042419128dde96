/**
 * Pure builders of what an attempt's end writes: its lineage, its fenced finish, the dataset and model versions it
 * registered, and its tracking run. Each registration and the tracking run are placed after the finish in the same
 * commit and apply only if the finish did (`ifAttempt`), so a fenced-out attempt registers nothing and a result
 * committed twice registers once.
 */
import type { AttemptResult, ModelWrite } from '../ports/executor.ts';
import type { Mutation } from '../ports/metadata.ts';
import { attemptRegistrationId } from '../registry/registration.ts';

export interface AttemptEnd {
  runId: string;
  nodeId: string;
  attempt: number;
  /** The engine that held the attempt's lease (the finish is fenced on it). */
  owner: string;
  now: number;
  startedAt: number | undefined;
  result: AttemptResult;
}

/** Measurements recorded on the attempt row. */
export function attemptMetrics(e: AttemptEnd): { startedAt?: number; cpuMs?: number; peakRssMb?: number; exitCode?: number } {
  const r = e.result;
  return {
    ...(e.startedAt !== undefined ? { startedAt: e.startedAt } : {}),
    ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs } : {}),
    ...(r.peakRssMb !== undefined ? { peakRssMb: r.peakRssMb } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
  };
}

/** The artifacts the attempt read and wrote, or nothing. */
export function lineageMutation(e: AttemptEnd): Mutation | undefined {
  const { runId, nodeId, attempt, result } = e;
  if (!result.read?.length && !result.written?.length) return undefined;
  return {
    type: 'lineage',
    records: [
      ...(result.read ?? []).map((sha256) => ({ runId, nodeId, attempt, sha256, direction: 'read' as const })),
      ...(result.written ?? []).map((sha256) => ({ runId, nodeId, attempt, sha256, direction: 'write' as const })),
    ],
  };
}

/** Dataset versions the attempt wrote (`ctx.datasets.write`): they apply only if its finish did. */
export function datasetMutations(e: AttemptEnd): Mutation[] {
  return (e.result.datasets ?? []).map((d) => ({ type: 'putDatasetVersion', version: { ...d, createdAt: e.now, producedBy: { runId: e.runId, nodeId: e.nodeId, attempt: e.attempt } } }));
}

/**
 * Model versions the attempt registered (`ctx.models.register`). The registration id is the attempt's; lineage is
 * the attempt and the code hash of its cache key (else the task's automatic code hash).
 */
export function modelMutations(e: AttemptEnd, models: readonly ModelWrite[], codeHash: string | undefined): Mutation[] {
  const ifAttempt = { runId: e.runId, nodeId: e.nodeId, attempt: e.attempt };
  return models.map((m) => ({
    type: 'registerModelVersion' as const,
    version: { ...m, registrationId: attemptRegistrationId(e.runId, e.nodeId, e.attempt, m.name), createdAt: e.now, lineage: { ...ifAttempt, ...(codeHash ? { codeHash } : {}) } },
    ifAttempt,
  }));
}

/**
 * The attempt as a tracking run nested in the workflow run's, with what it logged and its system metrics. Only
 * attempts that logged something (ctx.log) become tracking runs: the system metrics of every attempt are already
 * in its attempt record, and writing them twice for thousands of tiny tasks doubled commit costs.
 */
export function trackingMutations(e: AttemptEnd, status: 'succeeded' | 'failed' | 'cancelled', experiment: string): Mutation[] {
  const t = e.result.tracking;
  if (!t || (!t.metrics?.length && !t.params && !t.tags && !t.artifacts?.length)) return [];
  const { runId, nodeId, attempt, now, result } = e;
  const id = `${runId}/${nodeId}/${attempt}`;
  const start = e.startedAt ?? now;
  const system = [['duration_ms', now - start], ['cpu_ms', result.cpuMs], ['peak_rss_mb', result.peakRssMb]] as const;
  const metrics = [...(t.metrics ?? [])];
  for (const [key, value] of system) if (value !== undefined) metrics.push({ key, value, step: 0, ts: now });
  return [
    {
      type: 'startTrackingRun',
      run: { id, experiment, name: nodeId, status, startTime: start, endTime: now, parentId: runId, workflowRunId: runId, nodeId, attempt },
      ifAttempt: { runId, nodeId, attempt },
    },
    { type: 'logTracking', batch: { runId: id, metrics, ...(t.params ? { params: t.params } : {}), ...(t.tags ? { tags: t.tags } : {}), ...(t.artifacts?.length ? { artifacts: t.artifacts } : {}) } },
  ];
}
