/**
 * The attempts a driver has in flight on its executors: when each started, its timeout timer, and the output it
 * logged since the last commit (written with the next commit, one row per attempt and stream).
 */
import { BatonError } from '../errors.ts';
import type { Timers } from '../ports/clock.ts';
import type { AttemptSink, Executor } from '../ports/executor.ts';
import type { DriverState } from './decide.ts';
import { trialRequest } from './tune.ts';
import type { Mutation } from '../ports/metadata.ts';

type Stream = 'stdout' | 'stderr';

export class AttemptsInFlight {
  /** nodeId → attempt number, for attempts running on our executors. */
  readonly inFlight = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly timeouts = new Map<string, () => void>();
  private readonly logs = new Map<string, { nodeId: string; attempt: number; stream: Stream; text: string }>();

  constructor(private readonly timers: Timers) {}

  get size(): number {
    return this.inFlight.size;
  }

  /** Records that an attempt started at `now`; `onTimeout` fires after `timeoutMs` unless it ends first. */
  begin(nodeId: string, attempt: number, now: number, timeoutMs: number | undefined, onTimeout: () => void): void {
    this.inFlight.set(nodeId, attempt);
    this.startedAt.set(nodeId, now);
    if (timeoutMs !== undefined) this.timeouts.set(nodeId, this.timers.set(timeoutMs, onTimeout));
  }

  /** The attempt of `nodeId` ended: forgets it and cancels its timer. Returns when it started. */
  end(nodeId: string): number | undefined {
    this.inFlight.delete(nodeId);
    this.timeouts.get(nodeId)?.();
    this.timeouts.delete(nodeId);
    const at = this.startedAt.get(nodeId);
    this.startedAt.delete(nodeId);
    return at;
  }

  log(nodeId: string, attempt: number, stream: Stream, text: string): void {
    const key = `${nodeId}\u0000${attempt}\u0000${stream}`;
    const b = this.logs.get(key);
    if (b) b.text += text;
    else this.logs.set(key, { nodeId, attempt, stream, text });
  }

  /** The output logged since the last call, as one mutation (or none). */
  takeLogs(runId: string, now: number): Mutation | undefined {
    if (this.logs.size === 0) return undefined;
    const logs = [...this.logs.values()].map((l) => ({ runId, nodeId: l.nodeId, attempt: l.attempt, stream: l.stream, at: now, text: l.text }));
    this.logs.clear();
    return { type: 'logs', logs };
  }

  /** Cancels every timer (the driver is done). */
  dispose(): void {
    for (const cancel of this.timeouts.values()) cancel();
    this.timeouts.clear();
  }
}

/** The executor a node runs on: its dispatch's, else the run's default. */
export function executorFor(s: DriverState, nodeId: string): Executor {
  const name = s.dispatches.get(nodeId)?.executor ?? s.o.defaultExecutor;
  const ex = s.o.executors[name];
  if (!ex) throw new BatonError('usage', `Executor "${name}" (for node "${nodeId}") is not configured. Available: ${Object.keys(s.o.executors).join(', ')}.`);
  return ex;
}

/**
 * Hands attempt `attempt` of a claimed node to its executor, with its timeout timer; its output is buffered for the
 * next commit and passed to `sink.log`, its result to `sink.done`.
 */
export function submitAttempt(s: DriverState, attempts: AttemptsInFlight, nodeId: string, attempt: number, sink: AttemptSink): void {
  const d = s.dispatches.get(nodeId)!;
  const n = s.machine.get(nodeId);
  const def = s.o.tasks.get(n.spec.task!)!;
  const executor = executorFor(s, nodeId);
  attempts.begin(nodeId, attempt, s.o.clock.now(), d.timeoutMs, () => executor.cancel(s.runId, nodeId, attempt, 'timeout'));
  const trial = n.spec.trial !== undefined ? trialRequest(s.machine, s.studies, nodeId) : undefined;
  executor.submit(
    {
      runId: s.runId,
      nodeId,
      task: def.options.name,
      attempt,
      modules: def.location ? [def.location.file] : [],
      input: d.input,
      ...(d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {}),
      resources: { cpu: d.demand.cpu, memoryMB: d.demand.memoryMB, gpu: d.demand.gpu },
      env: d.env,
      ...(trial ? { trial } : {}),
    },
    {
      log: (stream, text) => {
        attempts.log(nodeId, attempt, stream, text);
        sink.log(stream, text);
      },
      done: sink.done,
    },
  );
}
