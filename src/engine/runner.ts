/**
 * RunDriver: drives one run to its end over the ports (metadata store, artifact store, executors, clock, timers,
 * host). Each step ("tick") drains attempt results, evaluates nodes whose dependencies are done, picks what fits in
 * the resource limits (decide.ts), and buffers all of it for ONE transaction (commit.ts) that is committed before
 * any attempt it decided on is started — except speculative starts (see src/engine/ARCHITECTURE.md).
 *
 * Several drivers (in several processes) may drive the same run: claims are conditional in the store, so each
 * attempt starts once; a driver that loses a claim or a finish reloads the run from the store and carries on.
 */
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { FingerprintPaths } from '../ports/path-fingerprints.ts';
import type { Clock, Host, Timers } from '../ports/clock.ts';
import type { AttemptResult, Executor } from '../ports/executor.ts';
import type { MetadataStore, Mutation, RunRecord, StoredValue } from '../ports/metadata.ts';
import type { DynamicFn } from '../sdk/build.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import type { Trial } from '../tuning/trial.ts';
import { BatonError, messageOf } from '../errors.ts';
import { AttemptsInFlight } from './attempts.ts';
import { taskCodeHash } from './cache-key.ts';
import { CommitBuffer, emptyStep, type StepWrites } from './commit.ts';
import { dispatchReady, evaluateReady, type DecideState, type Dispatch, type StepEvent } from './decide.ts';
import { attemptMetrics, datasetMutations, lineageMutation, modelMutations, trackingMutations, type AttemptEnd } from './finish.ts';
import { deadOwners, phaseOf } from './liveness.ts';
import { RunMachine, type Capacity, type Demand } from './machine.ts';
import { backoffDelay, normalizeRetry } from './retry.ts';
import { storedState, TERMINAL, type Phase } from './states.ts';
import { trialRequest } from './tune.ts';
import { ValueResolver } from './values.ts';

export { orderForLocks } from './commit.ts';

export interface RunnerEvent {
  type: 'transition' | 'log' | 'attempt' | 'run' | 'warning';
  at: number;
  nodeId?: string;
  from?: Phase;
  to?: Phase;
  attempt?: number;
  cached?: boolean;
  stream?: 'stdout' | 'stderr';
  text?: string;
  message?: string;
  status?: string;
}

export interface DriverOptions {
  store: MetadataStore;
  artifacts: ArtifactStore;
  executors: Record<string, Executor>;
  defaultExecutor: string;
  clock: Clock;
  timers: Timers;
  /** This machine and process (engine registration, liveness of other engines on this host). */
  host: Host;
  /** This engine's id (lease owner). */
  owner: string;
  capacity: Capacity;
  pools: Record<string, number>;
  tasks: Map<string, TaskDefinition>;
  dynamicBuilders: Map<string, DynamicFn>;
  workflowName: string;
  /** Environment values for tasks that declare `env`. */
  env: Record<string, string | undefined>;
  /** The tracking experiment of the run's task attempts. @default workflowName */
  experiment?: string;
  /** How long a lease lasts without renewal. @default 30000 */
  leaseMs?: number;
  /** How often to look for cancellation and other engines' progress. @default 250 */
  pollMs?: number;
  /** Longest time a decision may wait in the group-commit buffer. @default 10 */
  commitDelayMs?: number;
  /** Ready nodes to keep claimed beyond free capacity. @default max(64, 8 × CPUs) */
  claimAhead?: number;
  onEvent?: (e: RunnerEvent) => void;
  /** Fingerprints local paths named by string inputs, for cache keys (engine/path-inputs.ts). @default none: not checked */
  fingerprintPaths?: FingerprintPaths;
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: StoredValue;
  error?: string;
}

export class RunDriver implements DecideState {
  machine!: RunMachine;
  readonly values: ValueResolver;
  readonly dispatches = new Map<string, Dispatch>();
  readonly preclaimed = new Map<string, number>();
  readonly uncommittedSuccess = new Set<string>();
  deadOwners = new Set<string>();
  /** Finished trials of each study as of its latest evaluation (see EvalContext.studies). */
  readonly studies = new Map<string, (Trial | undefined)[]>();
  readonly codeRecorded = new Set<string>();
  private readonly inbox: { nodeId: string; attempt: number; result: AttemptResult }[] = [];
  private readonly attempts: AttemptsInFlight;
  private readonly buffer = new CommitBuffer();
  private wake: (() => void) | undefined;
  private cancelRequested = false;
  private cancelApplied = false;
  private needsReload = false;
  private lastPoll = 0;
  private lastRenew = 0;
  readonly leaseMs: number;
  readonly claimAhead: number;
  private readonly pollMs: number;
  private readonly commitDelayMs: number;

  constructor(
    readonly runId: string,
    private readonly o: DriverOptions,
  ) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.pollMs = o.pollMs ?? 250;
    this.commitDelayMs = o.commitDelayMs ?? 10;
    this.claimAhead = o.claimAhead ?? Math.max(64, Math.ceil(8 * o.capacity.cpu));
    this.values = new ValueResolver(o.artifacts, (id) => this.machine.get(id).output);
    this.attempts = new AttemptsInFlight(o.timers);
  }

  // DecideState: the driver's options, as deciding reads them.
  get owner(): string { return this.o.owner; }
  get store(): MetadataStore { return this.o.store; }
  get tasks(): Map<string, TaskDefinition> { return this.o.tasks; }
  get dynamicBuilders(): Map<string, DynamicFn> { return this.o.dynamicBuilders; }
  get workflowName(): string { return this.o.workflowName; }
  get capacity(): Capacity { return this.o.capacity; }
  get pools(): Record<string, number> { return this.o.pools; }
  get env(): Record<string, string | undefined> { return this.o.env; }
  get defaultExecutor(): string { return this.o.defaultExecutor; }
  get executors(): Record<string, Executor> { return this.o.executors; }
  get fingerprintPaths(): FingerprintPaths | undefined { return this.o.fingerprintPaths; }
  warn(nodeId: string, message: string, now: number): void { this.emit({ type: 'warning', at: now, nodeId, message }); }

  /** Requests cancellation (e.g. on Ctrl-C); running attempts are asked to stop. */
  cancel(): void {
    this.cancelRequested = true;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private emit(e: RunnerEvent): void {
    this.o.onEvent?.(e);
  }

  async drive(): Promise<RunOutcome> {
    const now = this.o.clock.now();
    await this.o.store.registerEngine({ id: this.o.owner, host: this.o.host.hostname, pid: this.o.host.pid, startedAt: now, heartbeatAt: now });
    this.lastRenew = now;
    const run = await this.requireRun();
    if (run.status !== 'running') throw new BatonError('conflict', `Run ${this.runId} is ${run.status}; only running runs can be driven. Use \`baton resume ${this.runId}\` to re-run its failed tasks.`);
    await this.o.store.apply([{ type: 'updateRun', runId: this.runId, owner: this.o.owner }]);
    await this.reload();
    try {
      while (!this.machine.done()) {
        const progressed = await this.tick();
        if (this.needsReload) {
          this.needsReload = false;
          await this.flush();
          await this.reload();
          continue;
        }
        if (progressed) continue;
        if (this.buffer.length) {
          // Results of running attempts may arrive within the commit delay: wait for them (or the deadline) so one
          // commit covers them too; otherwise make everything decided so far durable now.
          const left = this.buffer.since + this.commitDelayMs - this.o.clock.now();
          if (this.attempts.size > 0 && left > 0) await this.idle(left);
          else await this.flush();
        } else {
          await this.idle();
        }
      }
      await this.flush();
      return await this.finish();
    } finally {
      this.attempts.dispose();
    }
  }

  private async requireRun(): Promise<RunRecord> {
    const run = await this.o.store.getRun(this.runId);
    if (!run) throw new BatonError('not_found', `Run ${this.runId} does not exist in ${this.o.store.url}. List runs with \`baton runs\`.`);
    return run;
  }

  /** (Re)builds the machine from the store, keeping attempts this driver has in flight and claims it made ahead. */
  private async reload(): Promise<void> {
    const records = await this.o.store.getNodes(this.runId);
    const now = this.o.clock.now();
    const byId = this.preclaimed.size ? new Map(records.map((r) => [r.id, r])) : undefined;
    for (const [id, attempt] of [...this.preclaimed]) {
      const r = byId?.get(id);
      if (!r || r.state !== 'running' || r.leaseOwner !== this.o.owner || r.attempts !== attempt) this.preclaimed.delete(id);
    }
    this.deadOwners = await deadOwners(this.o.store, records, this.o.owner, this.o.host, this.leaseMs, now);
    this.machine = new RunMachine(this.o.capacity, this.o.pools);
    this.values.clear();
    const mine: { id: string; demand: Demand }[] = [];
    this.machine.add(
      records.map((r) => {
        const phase = phaseOf(r, this.o.owner, this.attempts.inFlight, now, this.deadOwners);
        if (phase === 'dispatched') mine.push({ id: r.id, demand: this.dispatches.get(r.id)!.demand });
        return {
          spec: r.spec,
          phase: phase === 'dispatched' ? 'foreign' : phase,
          attempts: r.attempts,
          retryBase: r.retryBase,
          ...(r.output ? { output: r.output } : {}),
          ...(r.expansion ? { expansion: r.expansion } : {}),
          ...(r.error ? { error: r.error } : {}),
          ...(r.cachedFrom ? { cachedFrom: r.cachedFrom } : {}),
          ...(r.state === 'running' && phase === 'pending' && !this.preclaimed.has(r.id) ? { takeover: true } : {}),
        };
      }),
    );
    for (const r of records) if (r.state === 'retrying') this.machine.get(r.id).notBefore = r.notBefore ?? 0;
    for (const m of mine) this.machine.adopt(m.id, m.demand);
    this.machine.takeTransitions();
  }

  /** Commits the buffer; claims that applied start their attempts, lost ones are given back. */
  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    this.uncommittedSuccess.clear();
    const { finishesLost, claims } = await this.buffer.flush(this.o.store);
    if (finishesLost) this.needsReload = true;
    for (const { claim: c, applied } of claims) {
      if (c.ahead) {
        if (!applied && this.preclaimed.get(c.nodeId) === c.attempt) {
          this.preclaimed.delete(c.nodeId);
          this.machine.lostClaim(c.nodeId);
          this.dispatches.delete(c.nodeId);
        }
      } else if (applied) {
        if (!c.started) {
          this.machine.claimed(c.nodeId, c.attempt);
          this.start(c.nodeId, c.attempt);
        }
      } else if (c.started) {
        this.needsReload = true; // cannot happen unless the store was changed behind our back: re-read it
      } else {
        this.machine.lostClaim(c.nodeId);
        this.dispatches.delete(c.nodeId);
      }
    }
  }

  /** One step. Returns whether anything happened. */
  private async tick(): Promise<boolean> {
    const now = this.o.clock.now();
    const step = emptyStep();
    const events: StepEvent[] = [];
    let progressed = false;

    // Cancellation and other engines' progress.
    if (now - this.lastPoll >= this.pollMs) {
      this.lastPoll = now;
      const run = await this.o.store.getRun(this.runId);
      if (run?.cancelRequested) this.cancelRequested = true;
      if (this.machine.hasForeign()) {
        this.needsReload = true;
        return true;
      }
    }
    if (this.cancelRequested && !this.cancelApplied) progressed = this.applyCancel(now, step.muts);

    for (const c of this.inbox.splice(0, this.inbox.length)) {
      progressed = true;
      this.completeAttempt(c.nodeId, c.attempt, c.result, now, step, events);
    }
    if (!this.cancelRequested) {
      if (await evaluateReady(this, now, step, events)) progressed = true;
      if (dispatchReady(this, now, step, events, (id, attempt) => this.start(id, attempt))) progressed = true;
    }

    // Leases and logs.
    if (now - this.lastRenew >= this.leaseMs / 3) {
      this.lastRenew = now;
      step.muts.push({ type: 'renewLeases', owner: this.o.owner, leaseUntil: now + this.leaseMs, runId: this.runId, nodeIds: [...this.attempts.inFlight.keys(), ...this.preclaimed.keys()] });
      await this.o.store.heartbeatEngine(this.o.owner, now);
    }
    const logs = this.attempts.takeLogs(this.runId, now);
    if (logs) step.muts.push(logs);
    if (events.length) step.muts.push({ type: 'events', events: events.map((e) => ({ runId: this.runId, at: now, ...e })) });
    this.recordConsequences(now, step.muts);

    if (step.muts.length === 0) return progressed;
    this.buffer.push(step, now);
    const waiting = step.claims.some((c) => !c.started);
    if (waiting || this.cancelRequested || this.buffer.length > 20_000 || now - this.buffer.since >= this.commitDelayMs) await this.flush();
    for (const t of this.machine.takeTransitions()) this.emit({ type: 'transition', at: now, nodeId: t.nodeId, from: t.from, to: t.to });
    return true;
  }

  /** Cancels every node not yet done and asks running attempts to stop. */
  private applyCancel(now: number, muts: Mutation[]): boolean {
    this.cancelApplied = true;
    for (const [nodeId, attempt] of this.attempts.inFlight) this.executorFor(nodeId).cancel(this.runId, nodeId, attempt, 'cancelled');
    for (const n of this.machine.nodes.values()) {
      if (TERMINAL.has(n.phase) || n.phase === 'dispatched') continue;
      const from = this.preclaimed.has(n.spec.id) ? 'running' : storedState(n.phase);
      this.preclaimed.delete(n.spec.id);
      this.machine.cancel(n.spec.id);
      muts.push({ type: 'setState', runId: this.runId, nodeId: n.spec.id, from: [from, 'pending', 'retrying'], state: 'cancelled', at: now, error: 'cancelled' });
    }
    muts.push({ type: 'events', events: [{ runId: this.runId, at: now, type: 'run_cancel_requested' }] });
    return true;
  }

  /** Nodes that became skipped or upstream_failed as a consequence of another node are recorded too; all are reported. */
  private recordConsequences(now: number, muts: Mutation[]): void {
    const transitions = this.machine.takeTransitions();
    for (const t of transitions) {
      if ((t.to === 'upstream_failed' || t.to === 'skipped') && (t.from === 'pending' || t.from === 'expanded' || t.from === 'foreign')) {
        muts.push({ type: 'setState', runId: this.runId, nodeId: t.nodeId, from: ['pending', 'running'], state: t.to, at: now });
      }
    }
    for (const t of transitions) {
      this.emit({ type: 'transition', at: now, nodeId: t.nodeId, from: t.from, to: t.to, ...(t.to === 'succeeded' && this.machine.get(t.nodeId).cachedFrom ? { cached: true } : {}) });
    }
  }

  private completeAttempt(nodeId: string, attempt: number, result: AttemptResult, now: number, step: StepWrites, events: StepEvent[]): void {
    const startedAt = this.attempts.end(nodeId);
    const n = this.machine.get(nodeId);
    const d = this.dispatches.get(nodeId);
    if (n.phase !== 'dispatched' || n.attempts !== attempt) return; // reloaded meanwhile: the store decides
    const end: AttemptEnd = { runId: this.runId, nodeId, attempt, owner: this.o.owner, now, startedAt, result };
    const muts = step.muts;
    const lineage = lineageMutation(end);
    if (lineage) muts.push(lineage);
    const experiment = this.o.experiment ?? this.o.workflowName;
    const base = { type: 'finish' as const, runId: this.runId, nodeId, attempt, owner: this.o.owner, at: now, ...attemptMetrics(end) };
    if (result.ok) {
      this.dispatches.delete(nodeId);
      this.machine.succeed(nodeId, result.output);
      this.uncommittedSuccess.add(nodeId);
      step.finishIdx.push(muts.length);
      muts.push({ ...base, nodeState: 'succeeded', attemptState: 'succeeded', output: result.output });
      muts.push(...datasetMutations(end));
      if (result.models?.length) muts.push(...modelMutations(end, result.models, this.codeHashOf(nodeId, d)));
      muts.push(...trackingMutations(end, 'succeeded', experiment));
      if (d?.key && d.parts) muts.push({ type: 'putCache', entry: { key: d.key, task: n.spec.task!, runId: this.runId, nodeId, output: result.output, parts: d.parts, createdAt: now } });
      events.push({ type: 'attempt_succeeded', nodeId, attempt });
      return;
    }
    const policy = normalizeRetry(n.spec.options?.retries ?? this.o.tasks.get(n.spec.task!)?.options.retries);
    const retryNo = attempt - n.retryBase; // attempts made since the last resume
    const allowed = result.retryable && result.kind !== 'cancelled' && retryNo <= policy.retries && !this.cancelRequested;
    const notBefore = now + backoffDelay(policy, retryNo);
    const phase = result.kind === 'cancelled' ? (this.machine.cancel(nodeId), 'cancelled' as const) : this.machine.fail(nodeId, result.message, { allowed, notBefore });
    if (phase !== 'retrying') this.dispatches.delete(nodeId);
    const attemptState = result.kind === 'cancelled' ? 'cancelled' : 'failed';
    step.finishIdx.push(muts.length);
    muts.push({ ...base, nodeState: phase === 'retrying' ? 'retrying' : phase === 'cancelled' ? 'cancelled' : 'failed', attemptState, error: result.message, errorKind: result.kind, ...(phase === 'retrying' ? { notBefore } : {}) });
    muts.push(...trackingMutations(end, attemptState, experiment));
    events.push({ type: 'attempt_failed', nodeId, attempt, data: { kind: result.kind, message: result.message, ...(result.code ? { code: result.code } : {}), ...(result.details !== undefined ? { details: result.details } : {}), retry: phase === 'retrying' ? { at: notBefore } : undefined } });
    // The user's stack trace helps; Baton's own (for a cancel or a timeout) does not.
    if (result.stack && (result.kind === 'user' || result.kind === 'input' || result.kind === 'platform')) this.attempts.log(nodeId, attempt, 'stderr', `${result.stack}\n`);
  }

  /** The code hash a model version's lineage names: the dispatch's cache key's, else the task's automatic one. */
  private codeHashOf(nodeId: string, d: Dispatch | undefined): string | undefined {
    const code = d?.parts?.code;
    if (code && 'hash' in code) return code.hash;
    const def = this.o.tasks.get(this.machine.get(nodeId).spec.task!);
    try {
      return def ? taskCodeHash(def).hash : undefined;
    } catch {
      return undefined; // no code hash (as for caching): the version still records its run, task and attempt
    }
  }

  private executorFor(nodeId: string): Executor {
    const name = this.dispatches.get(nodeId)?.executor ?? this.o.defaultExecutor;
    const ex = this.o.executors[name];
    if (!ex) throw new BatonError('usage', `Executor "${name}" (for node "${nodeId}") is not configured. Available: ${Object.keys(this.o.executors).join(', ')}.`);
    return ex;
  }

  private start(nodeId: string, attempt: number): void {
    const d = this.dispatches.get(nodeId)!;
    const n = this.machine.get(nodeId);
    const def = this.o.tasks.get(n.spec.task!)!;
    const executor = this.executorFor(nodeId);
    this.attempts.begin(nodeId, attempt, this.o.clock.now(), d.timeoutMs, () => executor.cancel(this.runId, nodeId, attempt, 'timeout'));
    const trial = n.spec.trial !== undefined ? trialRequest(this.machine, this.studies, nodeId) : undefined;
    executor.submit(
      {
        runId: this.runId,
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
          this.attempts.log(nodeId, attempt, stream, text);
          this.emit({ type: 'log', at: this.o.clock.now(), nodeId, attempt, stream, text });
        },
        done: (result) => {
          this.inbox.push({ nodeId, attempt, result });
          this.poke();
        },
      },
    );
  }

  /** Waits for an attempt result, the next poll or lease renewal, a retry's backoff, or `maxMs`. */
  private idle(maxMs = Infinity): Promise<void> {
    if (this.inbox.length) return Promise.resolve();
    const now = this.o.clock.now();
    const candidates = [maxMs, this.lastPoll + this.pollMs - now, this.lastRenew + this.leaseMs / 3 - now];
    const wakeAt = this.machine.nextWakeup();
    if (wakeAt !== undefined) candidates.push(wakeAt - now);
    const delay = Math.max(1, Math.min(...candidates));
    return new Promise((resolve) => {
      const cancel = this.o.timers.set(delay, () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        cancel();
        resolve();
      };
    });
  }

  private async finish(): Promise<RunOutcome> {
    const now = this.o.clock.now();
    const status = this.machine.outcome();
    let output: StoredValue | undefined;
    let error: string | undefined;
    const run = await this.requireRun();
    if (status === 'succeeded') {
      try {
        output = await this.values.encode(run.outputBinding);
      } catch (err) {
        error = `The workflow's output could not be assembled: ${messageOf(err)}`;
      }
    } else {
      const failed = [...this.machine.nodes.values()].filter((n) => n.phase === 'failed');
      error = status === 'cancelled' ? 'cancelled' : `${failed.length} task(s) failed: ${failed.slice(0, 5).map((n) => `${n.spec.id} (${(n.error ?? '').split('\n')[0]})`).join('; ')}`;
    }
    const final = error && status === 'succeeded' ? 'failed' : status;
    await this.o.store.apply([
      { type: 'updateRun', runId: this.runId, status: final, ...(output ? { output } : {}), error: error ?? null, endedAt: now, owner: null },
      { type: 'endTrackingRun', runId: this.runId, status: final, endTime: now },
      { type: 'events', events: [{ runId: this.runId, at: now, type: 'run_finished', data: { status: final } }] },
    ]);
    this.emit({ type: 'run', at: now, status: final, ...(error ? { message: error } : {}) });
    return { runId: this.runId, status: final, ...(output ? { output } : {}), ...(error ? { error } : {}) };
  }
}
