/**
 * An attempt's end, decided: the node's new phase in the machine (succeeded, retrying per its policy, failed or
 * cancelled) and the writes that record it — lineage, the fenced finish, the versions it registered, its tracking
 * run, its cache entry and events (built by finish.ts), all in the step's writes.
 */
import type { AttemptResult } from '../ports/executor.ts';
import type { Mutation } from '../ports/metadata.ts';
import { storedState, TERMINAL } from './states.ts';
import { taskCodeHash } from './cache-key.ts';
import type { StepWrites } from './commit.ts';
import type { Dispatch, DriverState, StepEvent } from './decide.ts';
import { attemptMetrics, datasetMutations, lineageMutation, modelMutations, trackingMutations, type AttemptEnd } from './finish.ts';
import { backoffDelay, normalizeRetry } from './retry.ts';

export function completeAttempt(s: DriverState, ended: { nodeId: string; attempt: number; result: AttemptResult; startedAt: number | undefined }, now: number, cancelling: boolean, step: StepWrites, events: StepEvent[], logStack: (text: string) => void): void {
const { nodeId, attempt, result, startedAt } = ended;
  const n = s.machine.get(nodeId);
  const d = s.dispatches.get(nodeId);
  if (n.phase !== 'dispatched' || n.attempts !== attempt) return; // reloaded meanwhile: the store decides
  const end: AttemptEnd = { runId: s.runId, nodeId, attempt, owner: s.o.owner, now, startedAt, result };
  const muts = step.muts;
  const lineage = lineageMutation(end);
  if (lineage) muts.push(lineage);
  const experiment = s.o.experiment ?? s.o.workflowName;
  const base = { type: 'finish' as const, runId: s.runId, nodeId, attempt, owner: s.o.owner, at: now, ...attemptMetrics(end) };
  if (result.ok) {
    s.dispatches.delete(nodeId);
    s.machine.succeed(nodeId, result.output);
    s.uncommittedSuccess.add(nodeId);
    step.finishIdx.push(muts.length);
    muts.push({ ...base, nodeState: 'succeeded', attemptState: 'succeeded', output: result.output });
    muts.push(...datasetMutations(end));
    if (result.models?.length) muts.push(...modelMutations(end, result.models, codeHashOf(s, nodeId, d)));
    muts.push(...trackingMutations(end, 'succeeded', experiment));
    if (d?.key && d.parts) muts.push({ type: 'putCache', entry: { key: d.key, task: n.spec.task!, runId: s.runId, nodeId, output: result.output, parts: d.parts, createdAt: now } });
    events.push({ type: 'attempt_succeeded', nodeId, attempt });
    return;
  }
  const policy = normalizeRetry(n.spec.options?.retries ?? s.o.tasks.get(n.spec.task!)?.options.retries);
  const retryNo = attempt - n.retryBase; // attempts made since the last resume
  const allowed = result.retryable && result.kind !== 'cancelled' && retryNo <= policy.retries && !cancelling;
  const notBefore = now + backoffDelay(policy, retryNo);
  const phase = result.kind === 'cancelled' ? (s.machine.cancel(nodeId), 'cancelled' as const) : s.machine.fail(nodeId, result.message, { allowed, notBefore });
  if (phase !== 'retrying') s.dispatches.delete(nodeId);
  const attemptState = result.kind === 'cancelled' ? 'cancelled' : 'failed';
  step.finishIdx.push(muts.length);
  muts.push({ ...base, nodeState: phase === 'retrying' ? 'retrying' : phase === 'cancelled' ? 'cancelled' : 'failed', attemptState, error: result.message, errorKind: result.kind, ...(phase === 'retrying' ? { notBefore } : {}) });
  muts.push(...trackingMutations(end, attemptState, experiment));
  events.push({ type: 'attempt_failed', nodeId, attempt, data: { kind: result.kind, message: result.message, ...(result.code ? { code: result.code } : {}), ...(result.details !== undefined ? { details: result.details } : {}), retry: phase === 'retrying' ? { at: notBefore } : undefined } });
  // The user's stack trace helps; Baton's own (for a cancel or a timeout) does not.
  if (result.stack && (result.kind === 'user' || result.kind === 'input' || result.kind === 'platform')) logStack(`${result.stack}\n`);
}

/** The code hash a model version's lineage names: the dispatch's cache key's, else the task's automatic one. */
function codeHashOf(s: DriverState, nodeId: string, d: Dispatch | undefined): string | undefined {
  const code = d?.parts?.code;
  if (code && 'hash' in code) return code.hash;
  const def = s.o.tasks.get(s.machine.get(nodeId).spec.task!);
  try {
    return def ? taskCodeHash(def).hash : undefined;
  } catch {
    return undefined; // no code hash (as for caching): the version still records its run, task and attempt
  }
}


/** Cancels every node of the run that is neither done nor running on our executors (those are asked to stop). */
export function cancelRest(s: DriverState, now: number, muts: Mutation[]): void {
  const released: { nodeId: string; attempt: number }[] = [];
  for (const n of s.machine.nodes.values()) {
    if (TERMINAL.has(n.phase) || n.phase === 'dispatched') continue;
    const ahead = s.preclaimed.get(n.spec.id);
    if (ahead !== undefined) released.push({ nodeId: n.spec.id, attempt: ahead });
    const from = ahead !== undefined ? 'running' : storedState(n.phase);
    s.preclaimed.delete(n.spec.id);
    s.machine.cancel(n.spec.id);
    muts.push({ type: 'setState', runId: s.runId, nodeId: n.spec.id, from: [from, 'pending', 'retrying'], state: 'cancelled', at: now, error: 'cancelled' });
  }
  if (released.length) muts.push({ type: 'releaseAttempts', runId: s.runId, attempts: released, at: now, reason: 'claimed ahead; the run was cancelled before it started' });
  muts.push({ type: 'events', events: [{ runId: s.runId, at: now, type: 'run_cancel_requested' }] });
}
