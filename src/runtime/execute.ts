/**
 * Runs one attempt of a task in the current process: decode the input, validate it, run the user's code (or the
 * command), validate and encode the output. Every executor calls this, so behaviour is the same everywhere. This
 * is the one place user errors are wrapped: the result says whether the input, the code or the output was at fault.
 */
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { BatonError, type FailureKind } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import type { AttemptRequest, AttemptResult } from '../ports/executor.ts';
import type { TaskContext } from '../sdk/context.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import { collectRefs, decodeValue, encodeValue } from '../values/codec.ts';
import { artifactAccess, type RecordingAccess } from './artifact-access.ts';
import { datasetAccess } from './dataset-access.ts';
import { modelAccess } from './model-access.ts';
import { trackingLog } from './tracking-log.ts';
import { trialRuntime, type TrialRuntime } from './trial.ts';
import { TrialPruned } from '../sdk/trial-pruned.ts';

/** What running a command task needs from the attempt (see executors/command/run.ts, which implements it). */
export interface CommandRun {
  access: RecordingAccess;
  signal: AbortSignal;
  log: (stream: 'stdout' | 'stderr', text: string) => void;
  scratch: () => Promise<string>;
  env: Record<string, string>;
  nodeId: string;
  /** With nodeId, names the task for the hand-over between copies (executors/command/previous-copy.ts). */
  runId?: string;
  /** Set by the runner: the command's CPU time, peak memory and exit code. */
  stats?: { cpuMs?: number; peakRssMb?: number; exitCode?: number };
}

export interface ExecuteOptions {
  artifacts: ArtifactStore;
  /** The offline engine of the executing process (opened on first use; the executor owns and closes it). */
  offline: () => Promise<OfflineEngine>;
  /** Runs a command task's program (the executor's adapter over child processes). */
  runCommand: (def: TaskDefinition, input: unknown, run: CommandRun) => Promise<unknown>;
  signal: AbortSignal;
  log: (stream: 'stdout' | 'stderr', text: string) => void;
  inlineLimit?: number;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? `"${i.path.join('.')}"` : 'the value'}: ${i.message}`)
    .join('; ');
}

function failure(kind: FailureKind, message: string, retryable: boolean, err?: unknown): AttemptResult {
  const stack = err instanceof Error ? err.stack : undefined;
  return { ok: false, kind, message, retryable, ...(stack ? { stack } : {}) };
}

/**
 * The user-code boundary: what a task's code (or a command) threw, as an attempt failure. A BatonError keeps its
 * code and is not retried — Baton refused something (a bad data file, a missing artifact, data failing its
 * validation suite) and the same input fails the same way; anything else is the user's error, retried by policy.
 */
export function classifyThrown(err: unknown, nodeId: string): AttemptResult {
  const message = err instanceof Error ? err.message : String(err);
  if (BatonError.is(err)) {
    const kind: FailureKind = err.code === 'validation_failed' ? 'validation' : 'platform';
    return { ...failure(kind, `Task "${nodeId}" failed: ${message}`, false, kind === 'platform' ? err : undefined), code: err.code, ...(err.details !== undefined ? { details: err.details } : {}) } as AttemptResult;
  }
  const commandFailure = (err as { batonKind?: 'output' | 'user' }).batonKind;
  return failure(commandFailure ?? 'user', `Task "${nodeId}" failed: ${message}`, commandFailure !== 'output', err);
}

export async function executeAttempt(def: TaskDefinition, req: AttemptRequest, opts: ExecuteOptions): Promise<AttemptResult> {
  const name = def.options.name;
  let input: unknown;
  try {
    input = await decodeValue(req.input, opts.artifacts);
  } catch (err) {
    return failure('input', `Task "${req.nodeId}" could not read its input: ${err instanceof Error ? err.message : String(err)}`, true, err);
  }
  const parsed = def.inputSchema.safeParse(input);
  if (!parsed.success) {
    return failure('input', `Task "${req.nodeId}" (${name}) got an input that does not match its schema: ${describeIssues(parsed.error)}. Fix the upstream output or the wiring.`, false);
  }
  let workDir: string | undefined;
  const scratch = async () => (workDir ??= await mkdtemp(join(tmpdir(), `baton-${name}-`)));
  const access = artifactAccess(opts.artifacts, scratch);
  const datasets = datasetAccess(access, opts.artifacts, opts.offline);
  // ctx.models and the trial runtime are created on first use: most attempts never touch them, and a fan-out of
  // 100,000 no-op tasks pays for every object allocated here (peak memory).
  let models: ReturnType<typeof modelAccess> | undefined;
  const getModels = () => (models ??= modelAccess({ access, store: opts.artifacts, scratch, task: def, runId: req.runId, nodeId: req.nodeId, attempt: req.attempt }));
  const log = trackingLog(parsed.data, Date.now, access);
  let trialState: TrialRuntime | undefined;
  const trial = () => (trialState ??= trialRuntime(req.trial, req.nodeId, parsed.data, log));
  if (req.trial) trial();
  for (const ref of collectRefs(parsed.data)) access.readSet.add(ref);
  let commandStats: CommandRun | undefined;
  let settled = true; // false while a TypeScript task's own code runs
  let user: Promise<unknown> | undefined;
  const withStats = (r: AttemptResult): AttemptResult => {
    const tracking = log.report();
    return { ...r, ...(commandStats?.stats ?? {}), ...(tracking ? { tracking } : {}) };
  };
  try {
    let raw: unknown;
    try {
      if (def.kind === 'command') {
        const run: CommandRun = { access, signal: opts.signal, log: opts.log, scratch, env: req.env, nodeId: req.nodeId, runId: req.runId };
        commandStats = run;
        raw = await opts.runCommand(def, parsed.data, run);
      } else {
        const ctx = {
          runId: req.runId,
          nodeId: req.nodeId,
          task: name,
          attempt: req.attempt,
          signal: opts.signal,
          artifacts: access,
          datasets,
          log,
          report: (step: number, value: number) => trial().report(step, value),
          offline: opts.offline,
          ...(req.trial ? { trial: { study: req.trial.study, number: req.trial.number } } : {}),
        } as unknown as TaskContext;
        // The scratch folder is created on first use: tasks that never ask for it cost no file-system calls.
        Object.defineProperty(ctx, 'models', { enumerable: true, get: getModels });
        Object.defineProperty(ctx, 'workDir', { enumerable: true, get: () => (workDir ??= mkdtempSync(join(tmpdir(), `baton-${name}-`))) });
        settled = false;
        user = Promise.resolve().then(() => def.fn!(parsed.data, ctx));
        void user.then(
          () => (settled = true),
          () => (settled = true),
        );
        raw = await raceAbort(user, opts.signal);
      }
    } catch (err) {
      if (opts.signal.aborted) {
        // A cooperative task stops soon after the signal: give it a moment before calling it abandoned.
        if (!settled && user) await Promise.race([user.then(noop, noop), new Promise((r) => setTimeout(r, 250).unref())]);
        const reason = opts.signal.reason === 'timeout' ? 'timeout' : 'cancelled';
        return withStats({ ...failure(reason, reason === 'timeout' ? `Task "${req.nodeId}" timed out after ${req.timeoutMs} ms.` : `Task "${req.nodeId}" was cancelled.`, reason === 'timeout', err), ...(settled ? {} : { abandoned: true }) } as AttemptResult);
      }
      if (req.trial && TrialPruned.is(err)) {
        const pruned = await encodeValue(trial().pruned(err), opts.artifacts, opts.inlineLimit);
        return withStats({ ok: true, output: pruned.stored, read: [...access.readSet], written: [...access.writtenSet, ...pruned.written] });
      }
      return withStats(classifyThrown(err, req.nodeId));
    }
    const out = def.outputSchema.safeParse(raw);
    if (!out.success) {
      return withStats(failure('output', `Task "${req.nodeId}" (${name}) returned an output that does not match its schema: ${describeIssues(out.error)}. Fix the task so it returns what its output schema declares.`, false));
    }
    let result: unknown = out.data;
    if (req.trial) {
      const t = trial().complete(out.data);
      if ('error' in t) return withStats(failure('output', t.error, false));
      result = t.outcome;
    }
    const encoded = await encodeValue(result, opts.artifacts, opts.inlineLimit);
    for (const w of encoded.written) access.writtenSet.add(w);
    for (const r of encoded.refs) if (!access.readSet.has(r)) access.writtenSet.add(r);
    return withStats({ ok: true, output: encoded.stored, read: [...access.readSet], written: [...access.writtenSet], ...(datasets.written.length ? { datasets: datasets.written } : {}), ...(models?.written.length ? { models: models.written } : {}) });
  } finally {
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

const noop = (): void => undefined;

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(String(signal.reason)));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
