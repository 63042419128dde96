/**
 * The one error root of Baton. Every error the platform raises is a BatonError with a `code`; the code maps to a
 * CLI exit code (and later an HTTP status) in one table below. Messages say what went wrong, which item, and the fix.
 *
 * User code failing inside a task is never a BatonError of the platform's making: executors wrap it once as
 * TaskFailure (code 'task_failed') so a user's bug is never confused with a platform bug.
 */

export type ErrorCode =
  | 'usage' // bad command-line arguments or options
  | 'workflow_load' // a workflow file that does not load or exports no workflow
  | 'workflow_invalid' // a cycle, a missing input, an unknown pool, an impossible resource request
  | 'params_invalid' // workflow parameters that fail their schema
  | 'data_invalid' // a data file or table that cannot be read or does not fit (bad CSV, unknown column, bad suite)
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
  not_found: 4,
  store: 5,
  artifact: 5,
  conflict: 6,
  cancelled: 130,
  internal: 70,
};

export class BatonError extends Error {
  override readonly name: string = 'BatonError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Raised by executors when user code fails; carries the task, attempt and the original cause. */
export class TaskFailure extends BatonError {
  override readonly name = 'TaskFailure';
  constructor(
    readonly task: string,
    readonly attempt: number,
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('task_failed', message, options);
  }
}

/** Why an attempt failed. `user` = the task threw; `output` = its output failed the schema; `input` = bad input. */
export type FailureKind = 'user' | 'input' | 'output' | 'timeout' | 'crash' | 'cancelled' | 'lost';

export function exitCodeOf(err: unknown): number {
  if (err instanceof BatonError) return EXIT_CODES[err.code];
  return EXIT_CODES.internal;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
