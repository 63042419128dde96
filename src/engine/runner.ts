/**
 * RunDriver: drives one run to its end over the ports (metadata store, artifact store, executors). Each step
 * ("tick") drains attempt results, evaluates nodes whose dependencies are done (guards, inputs, cache keys,
 * expansions), picks what fits in the resource limits, and commits all of it in ONE transaction before any
 * attempt it decided on is started. Only then are attempts handed to executors.
 *
 * Several drivers (in several processes) may drive the same run: claims are conditional in the store, so each
 * attempt starts once; a driver that loses a claim or a finish reloads the run from the store and carries on.
 */
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { Clock } from '../ports/clock.ts';
import type { AttemptResult, Executor, ModelWrite, TrialRequest } from '../ports/executor.ts';
import type { MetadataStore, Mutation, NodeRecord, RunRecord, StoredValue } from '../ports/metadata.ts';
import type { DynamicFn } from '../sdk/build.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import { BatonError, messageOf } from '../errors.ts';
import { cacheKey, taskCodeHash, type KeyParts } from './cache-key.ts';
import { inputPaths, pathWarnings } from './path-inputs.ts';
import type { FingerprintPaths } from '../ports/path-fingerprints.ts';
import { evaluateNode, type Evaluation } from './evaluate.ts';
import { prunerHistory } from './tune.ts';
import { mapChildId } from './graph.ts';
import { RunMachine, type Capacity, type Demand } from './machine.ts';
import { backoffDelay, normalizeRetry } from './retry.ts';
import { storedState, TERMINAL, type Phase } from './states.ts';
import { ValueResolver } from './values.ts';
import { attemptRegistrationId } from '../registry/registration.ts';
import type { Trial } from '../tuning/trial.ts';

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
  /** This engine's id (lease owner). */
  owner: string;
  host: string;
  isProcessAlive: (pid: number) => boolean;
  capacity: Capacity;
  pools: Record<string, number>;
  tasks: Map<string, TaskDefinition>;
  dynamicBuilders: Map<string, DynamicFn>;
  workflowName: string;
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
  /** Environment values for tasks that declare `env`. @default process.env */
  env?: Record<string, string | undefined>;
  /** Fingerprints local paths named by string inputs, for cache keys (engine/path-inputs.ts). @default none: not checked */
  fingerprintPaths?: FingerprintPaths;
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: StoredValue;
  error?: string;
}

interface Dispatch {
  input: StoredValue;
  key?: string;
  parts?: KeyParts;
  executor: string;
  env: Record<string, string>;
  timeoutMs?: number;
  demand: Demand;
}

interface Completion {
  nodeId: string;
  attempt: number;
  result: AttemptResult;
}

/**
 * Dataset and model registrations lock their dataset's or model's row until commit. Two engines committing versions
 * of several datasets or models in opposite orders could deadlock on PostgreSQL, so within one commit they are
 * applied last, datasets then models, each sorted by name (they only depend on finishes earlier in the batch).
 * Returns the batch to apply and, for each original position, where its result is in the reordered batch.
 */
export function orderForLocks(muts: readonly Mutation[]): { batch: Mutation[]; position: number[] } {
  const rest: number[] = [];
  const datasets: number[] = [];
  const models: number[] = [];
  muts.forEach((m, i) => (m.type === 'putDatasetVersion' ? datasets : m.type === 'registerModelVersion' ? models : rest).push(i));
  if (datasets.length + models.length < 2) return { batch: [...muts], position: muts.map((_, i) => i) };
  const name = (i: number) => (muts[i] as Extract<Mutation, { type: 'putDatasetVersion' | 'registerModelVersion' }>).version.name;
  const byName = (a: number, b: number) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a - b);
  datasets.sort(byName);
  models.sort(byName);
  const order = [...rest, ...datasets, ...models];
  const position: number[] = new Array<number>(muts.length);
  order.forEach((orig, at) => (position[orig] = at));
  return { batch: order.map((i) => muts[i]!), position };
}

export class RunDriver {
  private machine!: RunMachine;
  private readonly values: ValueResolver;
  private readonly inbox: Completion[] = [];
  private readonly dispatches = new Map<string, Dispatch>();
  /** Attempts running on our executors: nodeId → attempt. */
  private readonly inFlight = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** When each in-flight attempt was handed to its executor. */
  private readonly startedAt = new Map<string, number>();
  private readonly logBuffer = new Map<string, { nodeId: string; attempt: number; stream: 'stdout' | 'stderr'; text: string }>();
  private wake: (() => void) | undefined;
  private cancelRequested = false;
  private cancelApplied = false;
  private needsReload = false;
  private lastPoll = 0;
  private lastRenew = 0;
  private readonly leaseMs: number;
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
  }

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
    await this.o.store.registerEngine({ id: this.o.owner, host: this.o.host, pid: process.pid, startedAt: now, heartbeatAt: now });
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
        if (!progressed) {
          if (this.buffer.length) {
            // Results of running attempts may arrive within the commit delay: wait for them (or the deadline)
            // so one commit covers them too; otherwise make everything decided so far durable now.
            const left = this.bufferSince + this.commitDelayMs - this.o.clock.now();
            if (this.inFlight.size > 0 && left > 0) await this.idle(left);
            else await this.flush();
          } else {
            await this.idle();
          }
        }
      }
      await this.flush();
      return await this.finish();
    } finally {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
    }
  }

  private async requireRun(): Promise<RunRecord> {
    const run = await this.o.store.getRun(this.runId);
    if (!run) throw new BatonError('not_found', `Run ${this.runId} does not exist in ${this.o.store.url}. List runs with \`baton runs\`.`);
    return run;
  }

  /** (Re)builds the machine from the store, keeping attempts this driver has in flight. */
  private async reload(): Promise<void> {
    const records = await this.o.store.getNodes(this.runId);
    const now = this.o.clock.now();
    const owners = [...new Set(records.filter((r) => r.state === 'running' && r.leaseOwner && r.leaseOwner !== this.o.owner).map((r) => r.leaseOwner!))];
    const dead = new Set<string>();
    if (owners.length) {
      const engines = await this.o.store.getEngines(owners);
      const known = new Map(engines.map((e) => [e.id, e]));
      for (const id of owners) {
        const e = known.get(id);
        if (!e || (e.host === this.o.host && !this.o.isProcessAlive(e.pid)) || e.heartbeatAt + this.leaseMs < now) dead.add(id);
      }
    }
    // Nodes we claimed ahead stay ours (re-evaluated, then started with that claim); any other claim of ours that is
    // not in flight is stale and may be taken again.
    const byId = this.preclaimed.size ? new Map(records.map((r) => [r.id, r])) : undefined;
    for (const [id, attempt] of [...this.preclaimed]) {
      const r = byId?.get(id);
      if (!r || r.state !== 'running' || r.leaseOwner !== this.o.owner || r.attempts !== attempt) this.preclaimed.delete(id);
    }
    dead.add(this.o.owner);
    this.deadOwners = dead;
    this.machine = new RunMachine(this.o.capacity, this.o.pools);
    this.values.clear();
    const mine: { id: string; demand: Demand }[] = [];
    this.machine.add(
      records.map((r) => {
        const phase = this.phaseOf(r, now, dead);
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

  private deadOwners = new Set<string>();
  /** Finished trials of each study as of its latest evaluation (see EvalContext.studies). */
  private readonly studies = new Map<string, (Trial | undefined)[]>();
  private readonly codeRecorded = new Set<string>();

  private phaseOf(r: NodeRecord, now: number, dead: Set<string>): Phase {
    switch (r.state) {
      case 'pending':
        return 'pending';
      case 'retrying':
        return 'retrying';
      case 'running':
        if (r.spec.kind !== 'task') return r.expansion ? 'expanded' : 'pending';
        if (r.leaseOwner === this.o.owner && this.inFlight.get(r.id) === r.attempts) return 'dispatched';
        if (r.leaseOwner === this.o.owner) return 'pending'; // claimed ahead (kept in `preclaimed`) or stale: see reload()
        if (!r.leaseOwner || dead.has(r.leaseOwner) || (r.leaseUntil ?? 0) < now) return 'pending';
        return 'foreign';
      default:
        return r.state;
    }
  }

  /** One step. Returns whether anything happened. */
  /**
   * Group commit. Mutations of several steps are committed together, in order, in one transaction: when an
   * attempt waits for its claim, when the engine would otherwise wait, or after `commitDelayMs`. An attempt starts
   * before its claim is committed only when no other engine could claim it: one of its dependencies' success is
   * still in this buffer, so in the store the node is not ready for anyone else. A crash loses at most the
   * buffered (uncommitted) decisions; the store only ever holds a consistent prefix of them.
   */
  private buffer: Mutation[] = [];
  private bufferFinishes: number[] = [];
  private bufferClaims: { idx: number; nodeId: string; attempt: number; started: boolean; ahead?: boolean }[] = [];
  /** Nodes claimed ahead of free capacity (committed claims, not started yet): nodeId → attempt. */
  private readonly preclaimed = new Map<string, number>();
  private readonly claimAhead: number;
  private bufferSince = 0;
  /**
   * Nodes whose success only this engine knows so far: finished attempts it holds the lease of, not committed yet.
   * (Cache hits and expansions do not count: another engine may have completed the same node in the store.)
   */
  private readonly uncommittedSuccess = new Set<string>();

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const muts = this.buffer;
    const finishes = this.bufferFinishes;
    const claims = this.bufferClaims;
    this.buffer = [];
    this.bufferFinishes = [];
    this.bufferClaims = [];
    this.uncommittedSuccess.clear();
    const { batch, position } = orderForLocks(muts);
    const applied = await this.o.store.apply(batch);
    const results = position.map((p) => applied[p]);
    for (const i of finishes) if (!results[i]) this.needsReload = true;
    for (const c of claims) {
      if (c.ahead) {
        if (!results[c.idx] && this.preclaimed.get(c.nodeId) === c.attempt) {
          this.preclaimed.delete(c.nodeId);
          this.machine.lostClaim(c.nodeId);
          this.dispatches.delete(c.nodeId);
        }
        continue;
      }
      if (results[c.idx]) {
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

  private async tick(): Promise<boolean> {
    const now = this.o.clock.now();
    const muts: Mutation[] = [];
    const finishIdx: number[] = [];
    const claimIdx: { idx: number; nodeId: string; attempt: number; started: boolean; ahead?: boolean }[] = [];
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
    if (this.cancelRequested && !this.cancelApplied) {
      this.cancelApplied = true;
      progressed = true;
      for (const [nodeId, attempt] of this.inFlight) this.executorFor(nodeId).cancel(this.runId, nodeId, attempt, 'cancelled');
      for (const n of this.machine.nodes.values()) {
        if (TERMINAL.has(n.phase) || n.phase === 'dispatched') continue;
        const from = this.preclaimed.has(n.spec.id) ? 'running' : storedState(n.phase);
        this.preclaimed.delete(n.spec.id);
        this.machine.cancel(n.spec.id);
        muts.push({ type: 'setState', runId: this.runId, nodeId: n.spec.id, from: [from, 'pending', 'retrying'], state: 'cancelled', at: now, error: 'cancelled' });
      }
      muts.push({ type: 'events', events: [{ runId: this.runId, at: now, type: 'run_cancel_requested' }] });
    }

    // 1. Results of attempts.
    const events: { type: string; nodeId?: string; attempt?: number; data?: unknown }[] = [];
    for (const c of this.inbox.splice(0, this.inbox.length)) {
      progressed = true;
      this.completeAttempt(c, now, muts, finishIdx, events);
    }

    // 2. Evaluate nodes whose dependencies are done (cache hits make more ready, so loop).
    if (!this.cancelRequested) {
      for (let ids = this.machine.takeResolvable(); ids.length; ids = this.machine.takeResolvable()) {
        progressed = true;
        const toLookup: { id: string; ev: Extract<Evaluation, { kind: 'dispatch' }> }[] = [];
        for (const id of ids) {
          const ev = await evaluateNode(this.machine.get(id), {
            values: this.values,
            tasks: this.o.tasks,
            dynamicBuilders: this.o.dynamicBuilders,
            workflowName: this.o.workflowName,
            machine: this.machine,
            capacity: this.o.capacity,
            pools: this.o.pools,
            env: this.o.env ?? process.env,
            defaultExecutor: this.o.defaultExecutor,
            studies: this.studies,
          });
          this.applyEvaluation(id, ev, now, muts, finishIdx, events, toLookup);
        }
        if (toLookup.length) await this.lookupCache(toLookup, now, muts, events);
      }
    }

    // 3. Dispatch what fits.
    if (!this.cancelRequested) {
      for (const id of this.machine.pickDispatch(now)) {
        progressed = true;
        const n = this.machine.get(id);
        const pre = this.preclaimed.get(id);
        if (pre !== undefined) {
          // Claimed ahead in an earlier, committed step: start at once.
          this.preclaimed.delete(id);
          this.machine.claimed(id, pre);
          this.start(id, pre);
          continue;
        }
        const attempt = n.attempts + 1;
        let speculative = false;
        for (const dep of n.deps) if (this.uncommittedSuccess.has(dep)) speculative = true;
        claimIdx.push({ idx: muts.length, nodeId: id, attempt, started: speculative });
        muts.push(this.claimOf(id, attempt, now));
        events.push({ type: 'attempt_started', nodeId: id, attempt });
        if (speculative) {
          this.machine.claimed(id, attempt);
          this.start(id, attempt);
        }
      }
      // Claim ahead: keep a few ready nodes claimed beyond the free capacity, so that slots freed by finishing
      // attempts are refilled at once instead of after one commit per slot.
      if (this.claimAhead > 0 && this.preclaimed.size <= this.claimAhead / 2) {
        for (const id of this.machine.peekReady(this.claimAhead - this.preclaimed.size, this.preclaimed)) {
          const attempt = this.machine.get(id).attempts + 1;
          claimIdx.push({ idx: muts.length, nodeId: id, attempt, started: false, ahead: true });
          this.preclaimed.set(id, attempt);
          muts.push(this.claimOf(id, attempt, now));
        }
      }
    }

    // Leases and logs.
    if (now - this.lastRenew >= this.leaseMs / 3) {
      this.lastRenew = now;
      muts.push({ type: 'renewLeases', owner: this.o.owner, leaseUntil: now + this.leaseMs, runId: this.runId, nodeIds: [...this.inFlight.keys(), ...this.preclaimed.keys()] });
      await this.o.store.heartbeatEngine(this.o.owner, now);
    }
    if (this.logBuffer.size) {
      muts.push({ type: 'logs', logs: [...this.logBuffer.values()].map((l) => ({ runId: this.runId, nodeId: l.nodeId, attempt: l.attempt, stream: l.stream, at: now, text: l.text })) });
      this.logBuffer.clear();
    }
    if (events.length) muts.push({ type: 'events', events: events.map((e) => ({ runId: this.runId, at: now, ...e })) });

    // Nodes that became skipped or upstream_failed as a consequence of another node are recorded too.
    const transitions = this.machine.takeTransitions();
    for (const t of transitions) {
      if ((t.to === 'upstream_failed' || t.to === 'skipped') && (t.from === 'pending' || t.from === 'expanded' || t.from === 'foreign')) {
        muts.push({ type: 'setState', runId: this.runId, nodeId: t.nodeId, from: ['pending', 'running'], state: t.to, at: now });
      }
    }
    for (const t of transitions) {
      this.emit({ type: 'transition', at: now, nodeId: t.nodeId, from: t.from, to: t.to, ...(t.to === 'succeeded' && this.machine.get(t.nodeId).cachedFrom ? { cached: true } : {}) });
    }
    if (muts.length === 0) return progressed;
    if (this.buffer.length === 0) this.bufferSince = now;
    const base = this.buffer.length;
    for (const m of muts) this.buffer.push(m);
    for (const i of finishIdx) this.bufferFinishes.push(base + i);
    for (const c of claimIdx) this.bufferClaims.push({ ...c, idx: base + c.idx });
    const waiting = claimIdx.some((c) => !c.started);
    if (waiting || this.cancelRequested || this.buffer.length > 20_000 || now - this.bufferSince >= this.commitDelayMs) await this.flush();
    for (const t of this.machine.takeTransitions()) this.emit({ type: 'transition', at: now, nodeId: t.nodeId, from: t.from, to: t.to });
    return true;
  }

  /** The claim of attempt `attempt` of a ready node, with the input and cache key it will run with. */
  private claimOf(id: string, attempt: number, now: number): Mutation {
    const n = this.machine.get(id);
    const d = this.dispatches.get(id)!;
    return {
      type: 'claim',
      runId: this.runId,
      nodeId: id,
      attempt,
      owner: this.o.owner,
      leaseUntil: now + this.leaseMs,
      now,
      deadOwners: n.takeover ? [...this.deadOwners] : [],
      // Dependencies must be succeeded in the store too (a stale view never claims); very wide fan-ins skip it.
      deps: n.deps.size <= 200 ? [...n.deps] : [],
      ...(n.spec.trial !== undefined ? { ifSpec: JSON.stringify(n.spec) } : {}),
      input: d.input,
      ...(d.key ? { key: d.key, parts: d.parts } : {}),
      executor: d.executor,
    };
  }

  private completeAttempt(c: Completion, now: number, muts: Mutation[], finishIdx: number[], events: { type: string; nodeId?: string; attempt?: number; data?: unknown }[]): void {
    const { nodeId, attempt, result } = c;
    this.inFlight.delete(nodeId);
    const timer = this.timers.get(nodeId);
    if (timer) clearTimeout(timer);
    this.timers.delete(nodeId);
    const n = this.machine.get(nodeId);
    const d = this.dispatches.get(nodeId);
    if (n.phase !== 'dispatched' || n.attempts !== attempt) return; // reloaded meanwhile: the store decides
    const startedAt = this.startedAt.get(nodeId);
    this.startedAt.delete(nodeId);
    const metrics = {
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(result.cpuMs !== undefined ? { cpuMs: result.cpuMs } : {}),
      ...(result.peakRssMb !== undefined ? { peakRssMb: result.peakRssMb } : {}),
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    };
    if (result.read?.length || result.written?.length) {
      muts.push({
        type: 'lineage',
        records: [
          ...(result.read ?? []).map((sha256) => ({ runId: this.runId, nodeId, attempt, sha256, direction: 'read' as const })),
          ...(result.written ?? []).map((sha256) => ({ runId: this.runId, nodeId, attempt, sha256, direction: 'write' as const })),
        ],
      });
    }
    if (result.ok) {
      this.dispatches.delete(nodeId);
      this.machine.succeed(nodeId, result.output);
      this.uncommittedSuccess.add(nodeId);
      finishIdx.push(muts.length);
      muts.push({ type: 'finish', runId: this.runId, nodeId, attempt, owner: this.o.owner, nodeState: 'succeeded', attemptState: 'succeeded', at: now, output: result.output, ...metrics });
      // Dataset versions the attempt wrote, registered in the same commit; each applies only if the finish did.
      for (const d of result.datasets ?? []) muts.push({ type: 'putDatasetVersion', version: { ...d, createdAt: now, producedBy: { runId: this.runId, nodeId, attempt } } });
      if (result.models?.length) this.registerModels(nodeId, attempt, now, result.models, d, muts);
      this.trackAttempt(nodeId, attempt, 'succeeded', now, startedAt, result, muts);
      if (d?.key && d.parts) muts.push({ type: 'putCache', entry: { key: d.key, task: n.spec.task!, runId: this.runId, nodeId, output: result.output, parts: d.parts, createdAt: now } });
      events.push({ type: 'attempt_succeeded', nodeId, attempt });
      return;
    }
    const def = this.o.tasks.get(n.spec.task!);
    const policy = normalizeRetry(n.spec.options?.retries ?? def?.options.retries);
    const retryNo = attempt - n.retryBase; // attempts made since the last resume
    const allowed = result.retryable && result.kind !== 'cancelled' && retryNo <= policy.retries && !this.cancelRequested;
    const notBefore = now + backoffDelay(policy, retryNo);
    const phase = result.kind === 'cancelled' ? (this.machine.cancel(nodeId), 'cancelled' as const) : this.machine.fail(nodeId, result.message, { allowed, notBefore });
    if (phase !== 'retrying') this.dispatches.delete(nodeId);
    finishIdx.push(muts.length);
    muts.push({
      type: 'finish',
      runId: this.runId,
      nodeId,
      attempt,
      owner: this.o.owner,
      nodeState: phase === 'retrying' ? 'retrying' : phase === 'cancelled' ? 'cancelled' : 'failed',
      attemptState: result.kind === 'cancelled' ? 'cancelled' : 'failed',
      at: now,
      error: result.message,
      errorKind: result.kind,
      ...(phase === 'retrying' ? { notBefore } : {}),
      ...metrics,
    });
    this.trackAttempt(nodeId, attempt, result.kind === 'cancelled' ? 'cancelled' : 'failed', now, startedAt, result, muts);
    events.push({ type: 'attempt_failed', nodeId, attempt, data: { kind: result.kind, message: result.message, retry: phase === 'retrying' ? { at: notBefore } : undefined } });
    // The user's stack trace helps; Baton's own (for a cancel or a timeout) does not.
    if (result.stack && (result.kind === 'user' || result.kind === 'input')) this.bufferLog(nodeId, attempt, 'stderr', `${result.stack}\n`);
  }

  /**
   * Model versions the attempt registered (ctx.models.register), put after its finish in the same commit: each
   * applies only if the finish did (a fenced-out attempt registers nothing), and the registration id is the
   * attempt's, so a result committed twice registers once. Lineage: the attempt, and the code hash of its cache key
   * (else the task's automatic code hash); what it read is in its lineage records.
   */
  private registerModels(nodeId: string, attempt: number, now: number, models: readonly ModelWrite[], d: Dispatch | undefined, muts: Mutation[]): void {
    const code = d?.parts?.code;
    let codeHash = code && 'hash' in code ? code.hash : undefined;
    const def = codeHash === undefined ? this.o.tasks.get(this.machine.get(nodeId).spec.task!) : undefined;
    if (def) {
      try {
        codeHash = taskCodeHash(def).hash;
      } catch {
        // No code hash (as for caching): the version still records its run, task and attempt.
      }
    }
    const ifAttempt = { runId: this.runId, nodeId, attempt };
    for (const m of models) {
      const version = { ...m, registrationId: attemptRegistrationId(this.runId, nodeId, attempt, m.name), createdAt: now, lineage: { ...ifAttempt, ...(codeHash ? { codeHash } : {}) } };
      muts.push({ type: 'registerModelVersion', version, ifAttempt });
    }
  }

  /**
   * The attempt as a tracking run nested in the workflow run's, with what it logged and its system metrics, put
   * after its finish in the same commit: each applies only if the finish did.
   */
  private trackAttempt(nodeId: string, attempt: number, status: 'succeeded' | 'failed' | 'cancelled', now: number, startedAt: number | undefined, result: AttemptResult, muts: Mutation[]): void {
    // Only attempts that logged something (ctx.log) become tracking runs: the system metrics of every attempt are
    // already in its attempt record, and writing them twice for thousands of tiny tasks doubled commit costs.
    const t = result.tracking;
    if (!t || (!t.metrics?.length && !t.params && !t.tags && !t.artifacts?.length)) return;
    const id = `${this.runId}/${nodeId}/${attempt}`;
    const start = startedAt ?? now;
    const system = [['duration_ms', now - start], ['cpu_ms', result.cpuMs], ['peak_rss_mb', result.peakRssMb]] as const;
    const metrics = [...(result.tracking?.metrics ?? [])];
    for (const [key, value] of system) if (value !== undefined) metrics.push({ key, value, step: 0, ts: now });
    muts.push(
      {
        type: 'startTrackingRun',
        run: { id, experiment: this.o.experiment ?? this.o.workflowName, name: nodeId, status, startTime: start, endTime: now, parentId: this.runId, workflowRunId: this.runId, nodeId, attempt },
        ifAttempt: { runId: this.runId, nodeId, attempt },
      },
      { type: 'logTracking', batch: { runId: id, metrics, ...(t.params ? { params: t.params } : {}), ...(t.tags ? { tags: t.tags } : {}), ...(t.artifacts?.length ? { artifacts: t.artifacts } : {}) } },
    );
  }

  private applyEvaluation(id: string, ev: Evaluation, now: number, muts: Mutation[], finishIdx: number[], events: { type: string; nodeId?: string; data?: unknown }[], toLookup: { id: string; ev: Extract<Evaluation, { kind: 'dispatch' }> }[]): void {
    const n = this.machine.get(id);
    // An expanded node is running in the store — or pending again after a resume reset it.
    const from: ('pending' | 'running')[] = n.expansion ? ['running', 'pending'] : ['pending'];
    switch (ev.kind) {
      case 'skip':
        this.machine.skip(id);
        muts.push({ type: 'setState', runId: this.runId, nodeId: id, from, state: 'skipped', at: now });
        events.push({ type: 'node_skipped', nodeId: id, data: { reason: ev.reason } });
        return;
      case 'fail':
        this.machine.fail(id, ev.message, { allowed: false, notBefore: 0 });
        muts.push({ type: 'setState', runId: this.runId, nodeId: id, from, state: 'failed', at: now, error: ev.message });
        events.push({ type: 'node_failed', nodeId: id, data: { message: ev.message } });
        return;
      case 'succeed':
        this.machine.succeed(id, ev.output);
        muts.push({ type: 'setState', runId: this.runId, nodeId: id, from, state: 'succeeded', at: now, output: ev.output });
        return;
      case 'expand': {
        this.machine.add(ev.nodes.map((spec) => ({ spec, phase: 'pending' as const })));
        // A study expands step by step; each step applies only over the step it was decided from (several engines
        // may evaluate the same study), and its new trials only with it. A lost step makes this engine reload.
        const study = n.spec.kind === 'tune';
        if (study) {
          finishIdx.push(muts.length);
          muts.push({ type: 'setState', runId: this.runId, nodeId: id, from, state: 'running', at: now, expansion: ev.expansion, ifExpansion: n.expansion ?? null });
        }
        if (ev.nodes.length) {
          const seq0 = this.machine.nodes.size - ev.nodes.length;
          const nodes = ev.nodes.map((spec, i): NodeRecord => ({ runId: this.runId, id: spec.id, seq: seq0 + i, spec, state: 'pending', attempts: 0, retryBase: 0 }));
          muts.push({ type: 'insertNodes', nodes, ...(study ? { ifParent: { nodeId: id, expansion: ev.expansion } } : {}) });
        }
        if (!study) muts.push({ type: 'setState', runId: this.runId, nodeId: id, from: ['pending'], state: 'running', at: now, expansion: ev.expansion });
        events.push({ type: 'node_expanded', nodeId: id, data: { nodes: ev.nodes.length, ...(ev.expansion.branch !== undefined ? { branch: ev.expansion.branch } : {}) } });
        this.machine.expand(id, ev.expansion, ev.newDeps);
        return;
      }
      case 'dispatch':
        toLookup.push({ id, ev });
        return;
    }
  }

  private async lookupCache(items: { id: string; ev: Extract<Evaluation, { kind: 'dispatch' }> }[], now: number, muts: Mutation[], events: { type: string; nodeId?: string; data?: unknown }[]): Promise<void> {
    const keyed: { id: string; ev: Extract<Evaluation, { kind: 'dispatch' }>; key?: string; parts?: KeyParts }[] = [];
    for (const it of items) {
      const def = it.ev.def;
      const cacheOn = (this.machine.get(it.id).spec.options?.cache ?? def.options.cache) !== false;
      if (!cacheOn) {
        keyed.push(it);
        continue;
      }
      try {
        const paths = await inputPaths(def, it.ev.value, this.o.fingerprintPaths);
        const { key, parts } = cacheKey(def, it.ev.input, it.ev.value, it.ev.env, this.trialKey(it.id), paths);
        keyed.push({ ...it, key, parts });
      } catch (err) {
        // A code hash that cannot be computed disables caching for this node rather than failing it.
        events.push({ type: 'cache_key_failed', nodeId: it.id, data: { message: messageOf(err) } });
        keyed.push(it);
      }
    }
    const keys = keyed.filter((k) => k.key).map((k) => k.key!);
    const hits = keys.length ? await this.o.store.lookupCache(keys) : new Map();
    for (const k of keyed) {
      if (k.parts && 'hash' in k.parts.code && !this.codeRecorded.has(k.parts.code.hash)) {
        this.codeRecorded.add(k.parts.code.hash);
        muts.push({ type: 'putCode', hash: k.parts.code.hash, task: k.parts.task, parts: taskCodeHash(k.ev.def).parts, at: now });
      }
      const keyed = { input: k.ev.input, ...(k.key ? { key: k.key, parts: k.parts } : {}) };
      const hit = k.key ? hits.get(k.key) : undefined;
      for (const message of pathWarnings(k.id, k.parts, !!hit)) {
        events.push({ type: 'path_warning', nodeId: k.id, data: { message } });
        this.emit({ type: 'warning', at: now, nodeId: k.id, message });
      }
      if (hit) {
        const from = `${hit.runId}/${hit.nodeId}`;
        this.machine.succeed(k.id, hit.output, from);
        muts.push({ type: 'setState', runId: this.runId, nodeId: k.id, from: ['pending', 'running'], state: 'succeeded', at: now, output: hit.output, cachedFrom: from, ...keyed });
        events.push({ type: 'cache_hit', nodeId: k.id, data: { from } });
        continue;
      }
      this.dispatches.set(k.id, {
        input: k.ev.input,
        ...(k.key ? { key: k.key, parts: k.parts! } : {}),
        executor: k.ev.executor,
        env: k.ev.env,
        ...(k.ev.timeoutMs !== undefined ? { timeoutMs: k.ev.timeoutMs } : {}),
        demand: k.ev.demand,
      });
      this.machine.enqueue(k.id, k.ev.demand);
    }
  }

  private executorFor(nodeId: string): Executor {
    const name = this.dispatches.get(nodeId)?.executor ?? this.o.defaultExecutor;
    const ex = this.o.executors[name];
    if (!ex) throw new BatonError('usage', `Executor "${name}" (for node "${nodeId}") is not configured. Available: ${Object.keys(this.o.executors).join(', ')}.`);
    return ex;
  }

  /** What a trial's cached outcome depends on besides its input: how its study turns outputs into outcomes. */
  private trialKey(nodeId: string): string | undefined {
    const spec = this.machine.get(nodeId).spec;
    if (spec.trial === undefined || !spec.parent) return undefined;
    const s = this.machine.get(spec.parent).spec.tune!;
    // A pruned outcome depends on the trials the pruner compared with (0..k−p), so a cached one must share them:
    // named by their stored outcomes' hashes, not their contents, so a key costs O(k) short strings.
    const history: string[] = [];
    if (s.pruner) for (let i = 0; i <= spec.trial - s.parallelism; i++) {
      const t = this.machine.get(mapChildId(spec.parent, i));
      history.push(t.output?.hash ?? t.phase);
    }
    return JSON.stringify({ metric: s.metric ?? null, direction: s.direction, pruner: s.pruner ?? null, history });
  }

  /** A trial's view of its study (see TrialRequest), taken now. */
  private trialRequest(nodeId: string): TrialRequest | undefined {
    const spec = this.machine.get(nodeId).spec;
    if (spec.trial === undefined || !spec.parent) return undefined;
    const s = this.machine.get(spec.parent).spec.tune!;
    return {
      study: spec.parent,
      number: spec.trial,
      direction: s.direction,
      ...(s.metric !== undefined ? { metric: s.metric } : {}),
      ...(s.pruner ? { pruner: s.pruner } : {}),
      history: s.pruner ? prunerHistory(this.studies.get(spec.parent) ?? [], spec.trial, s.parallelism) : [],
    };
  }

  private start(nodeId: string, attempt: number): void {
    const d = this.dispatches.get(nodeId)!;
    const n = this.machine.get(nodeId);
    const def = this.o.tasks.get(n.spec.task!)!;
    this.inFlight.set(nodeId, attempt);
    this.startedAt.set(nodeId, this.o.clock.now());
    const executor = this.executorFor(nodeId);
    if (d.timeoutMs !== undefined) {
      const t = setTimeout(() => executor.cancel(this.runId, nodeId, attempt, 'timeout'), d.timeoutMs);
      t.unref?.();
      this.timers.set(nodeId, t);
    }
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
        ...(n.spec.trial !== undefined ? { trial: this.trialRequest(nodeId)! } : {}),
      },
      {
        log: (stream, text) => {
          this.bufferLog(nodeId, attempt, stream, text);
          this.emit({ type: 'log', at: this.o.clock.now(), nodeId, attempt, stream, text });
        },
        done: (result) => {
          this.inbox.push({ nodeId, attempt, result });
          this.poke();
        },
      },
    );
  }

  private bufferLog(nodeId: string, attempt: number, stream: 'stdout' | 'stderr', text: string): void {
    const key = `${nodeId}\u0000${attempt}\u0000${stream}`;
    const b = this.logBuffer.get(key);
    if (b) b.text += text;
    else this.logBuffer.set(key, { nodeId, attempt, stream, text });
  }

  private idle(maxMs = Infinity): Promise<void> {
    if (this.inbox.length) return Promise.resolve();
    const now = this.o.clock.now();
    const candidates = [maxMs, this.lastPoll + this.pollMs - now, this.lastRenew + this.leaseMs / 3 - now];
    const wakeAt = this.machine.nextWakeup();
    if (wakeAt !== undefined) candidates.push(wakeAt - now);
    const delay = Math.max(1, Math.min(...candidates));
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, delay);
      this.wake = () => {
        clearTimeout(t);
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
