/**
 * The tracking API for scripts and notebooks (`baton/tracking`): start a tracking run, log params, metrics and
 * tags, end it. Writes are buffered and flushed in batches (every `flushPoints` points or `flushMs` ms, and at
 * end) as one transaction each. A flush that fails because the store is busy (another writer holds SQLite's lock,
 * a PostgreSQL serialization failure) is retried with backoff; no write error ever reaches user code before
 * `end()`, which flushes what is left and reports the first error that could not be recovered from.
 *
 *   const t = await openTracking();
 *   const run = await t.startRun({ experiment: 'churn', name: 'rf-depth-6' });
 *   run.logParams({ depth: 6 }); run.logMetric('loss', 0.3, { step: 1 });
 *   await run.logArtifact('roc', 'out/roc.png');   // a local file or directory (stored), or a handle
 *   await run.end('succeeded'); await t.close();
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { BatonError, messageOf } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { MetadataStore } from '../ports/metadata.ts';
import type { ArtifactHandle, LoggedArtifact, MetricPoint, TrackingBatch, TrackingStatus } from '../ports/tracking.ts';
import { artifactAccess } from '../runtime/artifact-access.ts';
import { artifactHandle, paramText } from '../runtime/tracking-values.ts';

export { paramText };
export type { ArtifactHandle };

export type ParamValue = string | number | boolean;

export interface TrackingOptions {
  /** Flush when this many metric points are buffered. @default 5000 */
  flushPoints?: number;
  /** Flush buffered writes at least this often, ms. @default 1000 */
  flushMs?: number;
  /** Give up retrying a busy store after this long, ms (the error is then reported by end()). @default 120000 */
  retryForMs?: number;
}

export interface StartRunOptions {
  experiment: string;
  name?: string;
  tags?: Record<string, ParamValue>;
  /** A parent tracking run (nested runs). */
  parentId?: string;
}

function checkMetric(name: string, value: number, step: number): void {
  if (typeof name !== 'string' || name === '') throw new BatonError('usage', 'A metric needs a non-empty name.');
  if (typeof value !== 'number') throw new BatonError('usage', `Metric "${name}" must be a number; got ${typeof value}.`);
  if (!Number.isInteger(step) || step < 0) throw new BatonError('usage', `Metric "${name}": invalid step ${step}; give a whole number of at least 0.`);
}

/** Whether an error means "the store was busy, try again" rather than a real failure. */
export function isContention(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === '40001' || code === '40P01' || code === '55P03') return true;
    if (/database is locked|stayed locked|could not serialize|deadlock detected/i.test(messageOf(e))) return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function newTrackingRunId(now = Date.now()): string {
  return `t-${now.toString(36)}-${randomBytes(5).toString('hex')}`;
}

export class TrackedRun {
  private params: Record<string, string> = {};
  private tags: Record<string, string> = {};
  private points: MetricPoint[] = [];
  private artifacts: LoggedArtifact[] = [];
  private steps = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private error: unknown;
  private ended = false;

  constructor(
    private readonly store: MetadataStore,
    readonly id: string,
    private readonly opts: Required<TrackingOptions>,
    private readonly artifactStore: () => ArtifactStore,
  ) {}

  logParams(params: Record<string, ParamValue>): void {
    this.check();
    for (const [k, v] of Object.entries(params)) this.params[k] = paramText(k, v);
    this.schedule();
  }

  setTags(tags: Record<string, ParamValue>): void {
    this.check();
    for (const [k, v] of Object.entries(tags)) this.tags[k] = paramText(k, v);
    this.schedule();
  }

  /** Logs one point; without a step, the step after this metric's last one (0 first). */
  logMetric(name: string, value: number, options: { step?: number; ts?: number } = {}): void {
    this.check();
    const step = options.step ?? (this.steps.has(name) ? this.steps.get(name)! + 1 : 0);
    checkMetric(name, value, step);
    this.steps.set(name, Math.max(step, this.steps.get(name) ?? -1));
    this.points.push({ key: name, value, step, ts: options.ts ?? Date.now() });
    if (this.points.length >= this.opts.flushPoints) void this.flush();
    else this.schedule();
  }

  /**
   * Attaches an artifact under `name` (a later one under the same name replaces it): a handle (a file, directory or
   * dataset version already in the artifact store), or the path of a local file or directory, stored first in the
   * artifact store (`artifacts` of the config, .baton/artifacts by default). Resolves to the handle logged.
   */
  async logArtifact(name: string, artifact: ArtifactHandle | string): Promise<ArtifactHandle> {
    this.check();
    const call = 'logArtifact';
    if (typeof name !== 'string' || name === '') throw new BatonError('usage', `${call} needs a non-empty name as its first argument.`);
    const store = this.artifactStore();
    let handle: ArtifactHandle;
    if (typeof artifact === 'string') {
      const info = await stat(artifact).catch((err: unknown) => {
        throw new BatonError('usage', `${call}("${name}", "${artifact}"): cannot read that path (${messageOf(err)}). Give an existing file or directory, or a handle.`, { cause: err });
      });
      const access = artifactAccess(store, () => Promise.reject(new Error('no scratch folder in scripts')));
      handle = info.isDirectory() ? await access.putDir(artifact) : await access.putFile(artifact);
    } else {
      handle = artifactHandle(call, name, artifact);
      if (!(await store.has(handle.sha256))) {
        throw new BatonError('not_found', `${call}("${name}", …): artifact ${handle.sha256} is not in the artifact store ${store.url}. Log handles made with this store, or open tracking on the store they were made with.`);
      }
    }
    this.check();
    this.artifacts.push({ name, handle, loggedAt: Date.now() });
    this.schedule();
    return handle;
  }

  /** Writes what is buffered now (also done automatically). Never rejects; errors are reported by end(). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Required<TrackingBatch> = { runId: this.id, params: this.params, tags: this.tags, metrics: this.points, artifacts: this.artifacts };
    this.params = {};
    this.tags = {};
    this.points = [];
    this.artifacts = [];
    if (!batch.metrics.length && !batch.artifacts.length && !Object.keys(batch.params).length && !Object.keys(batch.tags).length) return this.flushing;
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  /** Flushes, marks the run ended, and throws the first write error if there was one. */
  async end(status: TrackingStatus = 'succeeded'): Promise<void> {
    if (this.ended) return;
    await this.flush();
    this.ended = true;
    if (this.error === undefined) await this.retrying(() => this.store.apply([{ type: 'endTrackingRun', runId: this.id, status, endTime: Date.now() }]));
    if (this.error !== undefined) throw new BatonError('store', `Tracking run ${this.id} could not store everything it logged: ${messageOf(this.error)}`, { cause: this.error });
  }

  private async write(batch: TrackingBatch): Promise<void> {
    if (this.error !== undefined) return;
    await this.retrying(() => this.store.apply([{ type: 'logTracking', batch }]));
  }

  private async retrying(fn: () => Promise<unknown>): Promise<void> {
    const until = Date.now() + this.opts.retryForMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        await fn();
        return;
      } catch (err) {
        if (!isContention(err) || Date.now() > until) {
          this.error ??= err;
          return;
        }
        await sleep(delay * (0.5 + Math.random()));
      }
    }
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.flushMs).unref();
  }

  private check(): void {
    if (this.ended) throw new BatonError('conflict', `Tracking run ${this.id} has ended; start another run to log more.`);
  }
}

/**
 * Tracking over a metadata store and an artifact store it is handed: `platform.tracking()` (the platform's own
 * stores) or `openTracking()` (from `baton/tracking`, which opens a platform and closes it with `close()`).
 */
export class Tracking {
  private readonly runs = new Set<TrackedRun>();
  private readonly opts: Required<TrackingOptions>;
  constructor(
    readonly store: MetadataStore,
    /** Where logArtifact stores local files. */
    readonly artifacts: ArtifactStore,
    options: TrackingOptions = {},
    /** Called by close() after the buffers are flushed (e.g. to close the stores this object was opened with). */
    private readonly onClose?: () => Promise<void>,
  ) {
    this.opts = { flushPoints: options.flushPoints ?? 5_000, flushMs: options.flushMs ?? 1_000, retryForMs: options.retryForMs ?? 120_000 };
  }

  async startRun(o: StartRunOptions): Promise<TrackedRun> {
    if (!o?.experiment) throw new BatonError('usage', 'startRun needs { experiment }: the name that groups related runs.');
    const now = Date.now();
    const id = newTrackingRunId(now);
    await this.store.apply([{ type: 'startTrackingRun', run: { id, experiment: o.experiment, status: 'running', startTime: now, ...(o.name ? { name: o.name } : {}), ...(o.parentId ? { parentId: o.parentId } : {}) } }]);
    const run = new TrackedRun(this.store, id, this.opts, () => this.artifacts);
    if (o.tags) run.setTags(o.tags);
    this.runs.add(run);
    return run;
  }

  /** Flushes every run's buffer (runs not ended stay running), then releases what this object was opened with. */
  async close(): Promise<void> {
    await Promise.all([...this.runs].map((r) => r.flush()));
    await this.onClose?.();
  }
}
