/**
 * Messages between a worker pool (engine side) and its workers. Shared by the thread and the process executors:
 * threads send them with structured-clone postMessage, processes over the IPC channel (advanced serialization).
 * Short field names keep the per-attempt messages small.
 */
import type { AttemptRequest, AttemptResult } from '../../ports/executor.ts';

/** Engine → worker. `id` numbers an attempt within the pool; it is unique for the pool's lifetime. */
export type ToWorker = { t: 'run'; id: number; req: AttemptRequest } | { t: 'cancel'; id: number; reason: 'cancelled' | 'timeout' };

/** Worker → engine. `ready` is sent once, when the worker can take attempts. Logs of an attempt precede its `done`. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'log'; id: number; s: 'stdout' | 'stderr'; x: string }
  | { t: 'done'; id: number; r: AttemptResult };

/** What a worker needs to start. */
export interface WorkerConfig {
  artifactsRoot: string;
  inlineLimit?: number;
}
