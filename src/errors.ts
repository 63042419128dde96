/**
 * The one error root of Baton. Every error the platform raises is a BatonError with a `code`; the code maps to a
 * CLI exit code (and later an HTTP status) in one table below. Messages say what went wrong, which item, and the fix.
 *
 * User code failing inside a task is never confused with a platform error: the one boundary (runtime/execute.ts)
 * classifies every failure as a FailureKind — a BatonError raised inside a task keeps its code and is not retried.
 */

export type ErrorCode =
  | 'usage' // bad command-line arguments or options
  | 'workflow_load' // a workflow file that does not load or exports no workflow
  | 'workflow_invalid' // a cycle, a missing input, an unknown pool, an impossible resource request
  | 'params_invalid' // workflow parameters that fail their schema
  | 'data_invalid' // a data file or table that cannot be read or does not fit (bad CSV, unknown column, bad suite)
  | 'validation_failed' // data that fails a validation suite (the report is in `details`)
  | 'not_found' // unknown run, task, node or artifact
  | 'store' // metadata store unreachable, corrupt or from a newer Baton
  | 'artifact' // artifact store errors (missing blob, bad key)
  | 'conflict' // state does not allow the action (resume a running run, replay a task that never ran)
  | 'task_failed' // a task attempt failed (user code threw, bad output, timeout, crash)
  | 'run_failed' // the run ended failed
  | 'cancelled' // the run was cancelled
  | 'internal';

/** Exit codes of the `baton` CLI, one per error code. Documented in README.md ("Exit codes"). */
export const EXIT_CODES: Record<ErrorCode | 'ok', number> = {
  ok: 0,
  run_failed: 1,
  task_failed: 1,
  usage: 2,
  workflow_load: 3,
  workflow_invalid: 3,
  params_invalid: 3,
  data_invalid: 7,
  validation_failed: 7,
  not_found: 4,
  store: 5,
  artifact: 5,
  conflict: 6,
  cancelled: 130,
  internal: 70,
};

/**
 * HTTP status of each error code, for every Baton server (src/http renders errors with it). 4xx: the request was
 * wrong; 503: a store Baton depends on failed and the request may succeed later; 500 only for a Baton bug.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  usage: 400,
  workflow_load: 422,
  workflow_invalid: 422,
  params_invalid: 422,
  data_invalid: 400,
  validation_failed: 422,
  not_found: 404,
  store: 503,
  artifact: 503,
  conflict: 409,
  task_failed: 422,
  run_failed: 422,
  cancelled: 409,
  internal: 500,
};

const BRAND = Symbol.for('baton.error');

export class BatonError extends Error {
  override readonly name: string = 'BatonError';
  readonly [BRAND] = true;
  /** Structured detail for programs (e.g. a validation report); the message already says it in words. */
  readonly details?: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    if (options?.details !== undefined) this.details = options.details;
  }

  /** True for a BatonError from any copy of this module (a workflow may load Baton from another path than the engine). */
  static is(err: unknown): err is BatonError {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true && typeof (err as { code?: unknown }).code === 'string';
  }

  /** `err instanceof BatonError` holds across module copies too; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === BatonError ? BatonError.is(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * Why an attempt failed — the one union executors report, the engine records (attempt `errorKind`) and readers
 * show. The boundary that assigns it is `runtime/execute.ts`:
 * - `user`: the task's own code threw (retried by its policy);
 * - `input`/`output`: the value did not fit the task's schema (not retried: the same value fails the same way);
 * - `platform`: Baton raised a BatonError inside the task (bad data file, missing artifact, bad call): not retried,
 *   its `code` is kept;
 * - `validation`: a validation step found data that fails its suite (not retried; the report travels with it);
 * - `timeout`, `cancelled`, `crash` (the worker died or could not load the task).
 */
export type FailureKind = 'user' | 'input' | 'output' | 'platform' | 'validation' | 'timeout' | 'crash' | 'cancelled';

export function exitCodeOf(err: unknown): number {
  if (BatonError.is(err)) return EXIT_CODES[err.code] ?? EXIT_CODES.internal;
  return EXIT_CODES.internal;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
