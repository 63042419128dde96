/**
 * Engine side of a pool of long-lived workers (threads or child processes), shared by the thread and process
 * executors. At most `workers` workers, started lazily when work arrives; each runs ONE attempt at a time and
 * further submissions wait in a FIFO queue.
 *
 * Guarantees: exactly one `sink.done` per submit, always after the attempt's logs. A cancelled attempt is asked to
 * stop (its AbortSignal is aborted in the worker); if it has not finished `killGraceMs` later, its worker is killed
 * and the attempt reported with kind = the reason. A worker that dies mid-attempt fails that attempt as a
 * retryable crash. A dead or killed worker is replaced on demand: queued attempts start new workers as needed.
 *
 * Workers are ref'd while they run an attempt (the engine process stays alive) and unref'd when idle (an idle pool
 * never keeps the process alive).
 */
import type { AttemptRequest, AttemptResult, AttemptSink, Executor } from '../../ports/executor.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

/** One started worker, as the pool sees it. Implemented by each executor. */
export interface WorkerHandle {
  /** For messages: "worker thread 3", "worker process 1234". */
  readonly label: string;
  send(message: ToWorker): void;
  /** Stops the worker at once (terminate / SIGKILL). */
  kill(): void;
  /** Stops an idle worker gracefully (recycling). @default kill */
  retire?(): void;
  ref(): void;
  unref(): void;
  /** Resolves once the worker is gone. */
  readonly exited: Promise<void>;
}

/** What a handle reports back. `exit` is called once, after every message and output the worker produced. */
export interface WorkerEvents {
  message(message: FromWorker): void;
  /** Output that did not come through a `log` message (written straight to fd 1/2 by native code). */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** `description` reads like "worker process 1234 exited with code 3"; `detail` says why, when known. */
  exit(description: string, detail?: string): void;
}

export interface PoolOptions {
  workers: number;
  /** Time a cancelled attempt gets to stop before its worker is killed. @default 2000 */
  killGraceMs?: number;
  /** Replace a worker after this many attempts. @default unlimited */
  recycleAfter?: number;
}

interface Slot {
  handle: WorkerHandle;
  ready: boolean;
  /** The attempt it runs (or will run once ready). */
  job: Job | undefined;
  attempts: number;
  /** Killed, retired or exited: takes no more work. */
  gone: boolean;
}

interface Job {
  id: number;
  key: string;
  req: AttemptRequest;
  sink: AttemptSink;
  slot: Slot | undefined;
  finished: boolean;
  cancelReason: 'cancelled' | 'timeout' | undefined;
  graceTimer: NodeJS.Timeout | undefined;
}

const keyOf = (runId: string, nodeId: string, attempt: number) => `${runId}\u0000${nodeId}\u0000${attempt}`;

export abstract class WorkerPool implements Executor {
  abstract readonly name: string;
  private readonly maxWorkers: number;
  private readonly killGraceMs: number;
  private readonly recycleAfter: number;
  private readonly slots: Slot[] = [];
  /** Every handle not yet exited, including killed and retired ones: close() waits for all of them. */
  private readonly alive = new Set<WorkerHandle>();
  private readonly queue: Job[] = [];
  /** Unfinished jobs, queued or running, by attempt key (for cancel). */
  private readonly jobs = new Map<string, Job>();
  /** Every unfinished job (close() waits for them). */
  private readonly unfinished = new Set<Job>();
  private nextId = 1;
  private closed = false;
  private drained: (() => void) | undefined;

  protected constructor(options: PoolOptions) {
    if (!Number.isFinite(options.workers) || options.workers < 1) {
      throw new TypeError(`workers must be a number >= 1, got ${String(options.workers)}.`);
    }
    this.maxWorkers = Math.floor(options.workers);
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.recycleAfter = options.recycleAfter ?? Infinity;
  }

  /** Starts one worker. The worker sends `{ t: 'ready' }` once it can take attempts. */
  protected abstract spawn(events: WorkerEvents): WorkerHandle;

  submit(req: AttemptRequest, sink: AttemptSink): void {
    const job: Job = { id: this.nextId++, key: keyOf(req.runId, req.nodeId, req.attempt), req, sink, slot: undefined, finished: false, cancelReason: undefined, graceTimer: undefined };
    if (this.closed) {
      job.finished = true;
      sink.done({ ok: false, kind: 'cancelled', retryable: false, message: `Task "${req.nodeId}" was not started: the ${this.name} executor is closed.` });
      return;
    }
    this.jobs.set(job.key, job);
    this.unfinished.add(job);
    this.queue.push(job);
    this.dispatch();
  }

  cancel(runId: string, nodeId: string, attempt: number, reason: 'cancelled' | 'timeout'): void {
    const job = this.jobs.get(keyOf(runId, nodeId, attempt));
    if (job) this.cancelJob(job, reason);
  }

  private cancelJob(job: Job, reason: 'cancelled' | 'timeout'): void {
    if (job.finished || job.cancelReason) return;
    job.cancelReason = reason;
    const slot = job.slot;
    if (!slot || !slot.ready) {
      // Not started yet (queued, or its worker is still starting): nothing to stop.
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      if (slot) {
        slot.job = undefined;
        if (!this.closed) slot.handle.unref();
      }
      this.finish(job, this.stopped(job, reason, 'before it started'));
      this.dispatch();
      return;
    }
    slot.handle.send({ t: 'cancel', id: job.id, reason });
    job.graceTimer = setTimeout(() => {
      if (job.finished || job.slot !== slot) return;
      slot.job = undefined;
      this.discard(slot);
      slot.handle.kill();
      this.finish(job, this.stopped(job, reason, `and did not stop within ${this.killGraceMs} ms; ${slot.handle.label} was killed`));
      this.dispatch();
    }, this.killGraceMs);
    // The running worker is ref'd, which keeps the process alive until the attempt ends either way.
    job.graceTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      this.finish(job, { ok: false, kind: 'cancelled', retryable: false, message: `Task "${job.req.nodeId}" was not started: the ${this.name} executor was closed.` });
    }
    for (const job of [...this.unfinished]) this.cancelJob(job, 'cancelled');
    if (this.unfinished.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    for (const slot of this.slots.splice(0)) {
      slot.gone = true;
      slot.handle.kill();
    }
    for (const handle of this.alive) handle.kill();
    await Promise.all([...this.alive].map((h) => h.exited));
  }

  /** Number of workers currently started (for tests and status). */
  get size(): number {
    return this.slots.length;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job && !s.gone);
      if (!slot) {
        if (this.closed || this.slots.length >= this.maxWorkers) return;
        try {
          slot = this.start();
        } catch (err) {
          // The worker could not even be created (tsx missing, out of processes): fail this attempt, try the next.
          const job = this.queue.shift()!;
          this.finish(job, { ok: false, kind: 'crash', retryable: true, message: `Could not start a worker for "${job.req.nodeId}": ${err instanceof Error ? err.message : String(err)}` });
          continue;
        }
      }
      const job = this.queue.shift()!;
      slot.job = job;
      job.slot = slot;
      slot.handle.ref();
      if (slot.ready) slot.handle.send({ t: 'run', id: job.id, req: job.req });
    }
  }

  private start(): Slot {
    const slot: Slot = { handle: undefined as unknown as WorkerHandle, ready: false, job: undefined, attempts: 0, gone: false };
    slot.handle = this.spawn({
      message: (m) => this.onMessage(slot, m),
      output: (stream, text) => this.onOutput(slot, stream, text),
      exit: (description, detail) => this.onExit(slot, description, detail),
    });
    this.slots.push(slot);
    this.alive.add(slot.handle);
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.t === 'ready') {
      slot.ready = true;
      if (slot.gone) return;
      if (slot.job) slot.handle.send({ t: 'run', id: slot.job.id, req: slot.job.req });
      else {
        slot.handle.unref();
        this.dispatch();
      }
      return;
    }
    const job = slot.job;
    if (!job || job.id !== m.id || job.finished) return; // a late message of an attempt already reported
    if (m.t === 'log') {
      job.sink.log(m.s, m.x);
      return;
    }
    // done
    slot.job = undefined;
    slot.attempts++;
    // A task that ignored its timeout or cancel may still be running in this worker: never reuse it.
    const abandoned = (m.r as { abandoned?: boolean }).abandoned === true;
    if (slot.attempts >= this.recycleAfter || abandoned) {
      this.discard(slot);
      if (slot.handle.retire && !abandoned) slot.handle.retire();
      else slot.handle.kill();
    } else if (this.queue.length === 0) {
      slot.handle.unref();
    }
    this.dispatch();
    this.finish(job, m.r);
  }

  private onOutput(slot: Slot, stream: 'stdout' | 'stderr', text: string): void {
    const job = slot.job;
    if (job && !job.finished) job.sink.log(stream, text);
    else process[stream].write(text);
  }

  private onExit(slot: Slot, description: string, detail?: string): void {
    this.alive.delete(slot.handle);
    this.discard(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.finished) {
      if (job.cancelReason) {
        this.finish(job, this.stopped(job, job.cancelReason, `and ${description}`));
      } else {
        this.finish(job, { ok: false, kind: 'crash', retryable: true, message: `${description} while running "${job.req.nodeId}"${detail ? `: ${detail}` : '.'}` });
      }
    }
    this.dispatch();
  }

  /** Takes a slot out of the pool (it gets no more work; a replacement may start). */
  private discard(slot: Slot): void {
    slot.gone = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private stopped(job: Job, reason: 'cancelled' | 'timeout', how: string): AttemptResult {
    const nodeId = job.req.nodeId;
    const message =
      reason === 'timeout'
        ? `Task "${nodeId}" timed out${job.req.timeoutMs !== undefined ? ` after ${job.req.timeoutMs} ms` : ''} ${how}.`
        : `Task "${nodeId}" was cancelled ${how}.`;
    return { ok: false, kind: reason, retryable: reason === 'timeout', message };
  }

  private finish(job: Job, result: AttemptResult): void {
    if (job.finished) return;
    job.finished = true;
    if (job.graceTimer) clearTimeout(job.graceTimer);
    if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
    this.unfinished.delete(job);
    if (this.closed && this.unfinished.size === 0 && this.drained) {
      const resolve = this.drained;
      this.drained = undefined;
      queueMicrotask(resolve);
    }
    job.sink.done(result);
  }
}
