/**
 * RunDriver: drives one run to its end over the ports (metadata store, artifact store, executors, clock, timers,
 * host). Each step ("tick") drains attempt results, evaluates nodes whose dependencies are done, picks what fits in
 * the resource limits (decide.ts), and buffers all of it for ONE transaction (commit.ts) that is committed before
 * any attempt it decided on is started — except speculative starts (see src/engine/ARCHITECTURE.md).
 *
 * Several drivers (in several processes) may drive the same run: claims are conditional in the store, so each
 * attempt starts once; a driver that loses a claim or a finish reloads the run from the store and carries on.
 */
import { BatonError } from '../errors.ts';
import type { AttemptResult, Executor } from '../ports/executor.ts';
import type { Mutation, RunRecord } from '../ports/metadata.ts';
import type { Trial } from '../tuning/trial.ts';
import { AttemptsInFlight, executorFor, submitAttempt } from './attempts.ts';
import { CommitBuffer, emptyStep } from './commit.ts';
import { cancelRest, completeAttempt } from './complete.ts';
import { dispatchReady, evaluateReady, type Dispatch, type DriverState, type StepEvent } from './decide.ts';
import { deadOwners, phaseOf } from './liveness.ts';
import { RunMachine, type Demand } from './machine.ts';
import type { DriverOptions, RunnerEvent, RunOutcome } from './options.ts';
import { runEnd } from './run-end.ts';
import { ValueResolver } from './values.ts';

export { orderForLocks } from './commit.ts';
export type { DriverOptions, RunnerEvent, RunOutcome };

export class RunDriver implements DriverState {
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
    readonly o: DriverOptions,
  ) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.pollMs = o.pollMs ?? 250;
    this.commitDelayMs = o.commitDelayMs ?? 10;
    this.claimAhead = o.claimAhead ?? Math.max(64, Math.ceil(8 * o.capacity.cpu));
    this.values = new ValueResolver(o.artifacts, (id) => this.machine.get(id).output);
    this.attempts = new AttemptsInFlight(o.timers);
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
    if (this.cancelRequested && !this.cancelApplied) {
      this.cancelApplied = progressed = true;
      for (const [nodeId, attempt] of this.attempts.inFlight) this.executorFor(nodeId).cancel(this.runId, nodeId, attempt, 'cancelled');
      cancelRest(this, now, step.muts);
    }

    for (const c of this.inbox.splice(0, this.inbox.length)) {
      progressed = true;
      completeAttempt(this, { ...c, startedAt: this.attempts.end(c.nodeId) }, now, this.cancelRequested, step, events, (text) => this.attempts.log(c.nodeId, c.attempt, 'stderr', text));
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

  private executorFor(nodeId: string): Executor {
    return executorFor(this, nodeId);
  }

  private start(nodeId: string, attempt: number): void {
    submitAttempt(this, this.attempts, nodeId, attempt, {
      log: (stream, text) => this.emit({ type: 'log', at: this.o.clock.now(), nodeId, attempt, stream, text }),
      done: (result) => {
        this.inbox.push({ nodeId, attempt, result });
        this.poke();
      },
    });
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
    const end = await runEnd(this.runId, this.machine, this.values, (await this.requireRun()).outputBinding, this.o.clock.now());
    await this.o.store.apply(end.muts);
    this.emit({ type: 'run', at: end.at, status: end.outcome.status, ...(end.outcome.error ? { message: end.outcome.error } : {}) });
    return end.outcome;
  }
}
