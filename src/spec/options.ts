/**
 * Task options as plain data: resources, retries, pools, caching, executor. Stored in node specs (per-call
 * overrides) and read by the engine and executors, so they sit below all of them.
 */

export interface Resources {
  /** CPU slots the task occupies while it runs. @default 1 */
  cpu?: number;
  /** Memory it may use, in MiB, counted against the engine's capacity. @default 0 (not counted) */
  memoryMB?: number;
  /** GPUs it needs. Scheduled like any other resource. @default 0 */
  gpu?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. @default 0 */
  retries: number;
  /** Delay before the first retry. @default 1000 */
  backoffMs?: number;
  /** Multiplier per further retry. @default 2 */
  factor?: number;
  /** Upper bound on one delay. @default 60000 */
  maxBackoffMs?: number;
}

export type ExecutorName = 'inline' | 'threads' | 'processes';

/** Options shared by TypeScript tasks and command tasks. */
export interface TaskOptions {
  /** Unique name of the task; it is its identity for caching and lookup in worker processes. */
  name: string;
  description?: string;
  resources?: Resources;
  /** Named pool with a concurrency limit, e.g. 'gpu' or 'db'. Pools are sized in the run options. */
  pool?: string;
  /** A number of retries, or a full policy. @default 0 */
  retries?: number | RetryPolicy;
  /** Fails an attempt that runs longer. @default none */
  timeoutMs?: number;
  /** Reuse a previous result when the cache key matches. @default true */
  cache?: boolean;
  /** Explicit code version; when set it replaces the automatic code hash in the cache key. */
  version?: string;
  /**
   * Fingerprint local files and folders named by string inputs (content hash, recomputed when size or mtime
   * change), so a changed file misses the cache. `false`: skip that work; every cache hit then warns, naming the
   * paths. @default true
   */
  fingerprintPaths?: boolean;
  /** Environment variables whose values change results: passed to the task and part of the cache key. */
  env?: string[];
  /** Which executor runs it. @default the run's executor */
  executor?: ExecutorName;
}

/** Per-call overrides: `train.with({ id: 'train-rf', retries: 2 })(inputs)`. */
export interface CallOptions extends Pick<TaskOptions, 'resources' | 'pool' | 'retries' | 'timeoutMs' | 'cache' | 'executor'> {
  /** Node id in the graph. @default the task name (suffixed -2, -3 when repeated) */
  id?: string;
}

