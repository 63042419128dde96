/**
 * Validation as a workflow step: `validationTask({ name, suite })` makes a task that checks a dataset (or file)
 * handle against a suite with the worker's OfflineEngine (DuckDB) and returns a summary of the report.
 *
 *   export const checkFlights = validationTask({ name: 'flights.validate', suite: FLIGHTS_SUITE });
 *   // in a workflow:
 *   const checked = checkFlights({ data: slice.flights });   // checked.data is the same handle, once it passed
 *
 * - A `fail`-severity expectation that fails stops the step: the attempt fails with `formatReport`'s text, which
 *   lists each violated expectation with its counts and a sample of offending rows. It is a `validation` failure
 *   (a BatonError 'validation_failed' carrying the summary as `details`): never retried, whatever the retry policy,
 *   since the same data fails the same way, and never blamed on the user's code.
 * - Warnings (failed `warn` expectations) do not stop it; the report is printed to stdout (the attempt's log).
 * - An invalid suite or one naming an unknown column fails the step with the SuiteError's message.
 *
 * Caching: the task's code hash is taken at the caller's `validationTask({...})` call (not inside this file), so it
 * covers the suite when it is declared in the caller's file, plus this module's content; editing the suite re-runs
 * the step. Declare each validation task at module top level (worker processes import the file to find it).
 */
import { fileURLToPath } from 'node:url';
import { BatonError } from '../../errors.ts';
import { z } from 'zod';
import { captureCallSite } from '../../codehash/callsite.ts';
import type { TaskContext } from '../../sdk/context.ts';
import { DatasetHandleSchema, FileHandleSchema, isDatasetHandle, type DatasetHandle, type FileHandle } from '../../sdk/handles.ts';
import { makeTask, type Task, type TaskDefinition } from '../../sdk/task.ts';
import type { FileFormat } from '../../ports/offline.ts';
import { formatReport, type Report } from './report.ts';
import type { SuiteInput } from './suite.ts';
import { validate } from './validate.ts';

const SELF = fileURLToPath(import.meta.url);

export interface ValidationTaskOptions {
  /** The task's name, e.g. `flights.validate`. */
  name: string;
  suite: SuiteInput;
  description?: string;
  /** Offending rows kept per violated expectation. @default 5 */
  sampleSize?: number;
  /** Rows of each sample shown in the message and the log. @default 3 */
  sampleRows?: number;
  /** Print the report to stdout even when nothing was violated. @default true */
  logPassed?: boolean;
  timeoutMs?: number;
}

const DataSchema = z.union([DatasetHandleSchema, FileHandleSchema]);

export const ExpectationSummarySchema = z.object({
  name: z.string(),
  kind: z.string(),
  severity: z.enum(['warn', 'fail']),
  passed: z.boolean(),
  expected: z.string(),
  violations: z.number().optional(),
  share: z.number().optional(),
});

export const ValidationSummarySchema = z.object({
  /** The handle that was checked, passed through so downstream steps depend on the check. */
  data: DataSchema,
  suite: z.string(),
  rows: z.number().int(),
  passed: z.boolean(),
  failed: z.number().int(),
  warnings: z.number().int(),
  /** Every expectation's outcome, in suite order. */
  results: z.array(ExpectationSummarySchema),
  /** `formatReport` text. */
  report: z.string(),
  durationMs: z.number(),
});
export type ValidationSummary = z.output<typeof ValidationSummarySchema>;

const InputSchema = z.object({ data: DataSchema });
type ValidationTask = Task<typeof InputSchema, typeof ValidationSummarySchema>;

const FORMATS = new Set<string>(['csv', 'parquet', 'json']);

/** The local path and format of the handle (a dataset read is recorded as lineage). */
async function localSource(data: DatasetHandle | FileHandle, ctx: TaskContext): Promise<{ path: string; format?: FileFormat }> {
  if (isDatasetHandle(data)) return { path: await ctx.datasets.path(data), format: data.format };
  const path = await ctx.artifacts.path(data);
  const format = data.format && FORMATS.has(data.format) ? (data.format as FileFormat) : undefined;
  return format ? { path, format } : { path };
}

export function summarise(report: Report, data: DatasetHandle | FileHandle, sampleRows = 3): ValidationSummary {
  return {
    data,
    suite: report.suite,
    rows: report.rows,
    passed: report.passed,
    failed: report.failed,
    warnings: report.warnings,
    results: report.results.map((r) => ({
      name: r.name,
      kind: r.kind,
      severity: r.severity,
      passed: r.passed,
      expected: r.expected,
      ...(r.observed.violations !== undefined ? { violations: r.observed.violations } : {}),
      ...(r.observed.share !== undefined ? { share: r.observed.share } : {}),
    })),
    report: formatReport(report, { sampleRows }),
    durationMs: report.durationMs,
  };
}

/** A task that validates its `data` handle against `suite`; see the module comment. */
export function validationTask(options: ValidationTaskOptions): ValidationTask {
  const { name, suite, description, sampleSize = 5, sampleRows = 3, logPassed = true, timeoutMs } = options;
  const definition: TaskDefinition = {
    kind: 'task',
    options: {
      name,
      description: description ?? `Validates a dataset against the "${(suite as { name?: string }).name ?? 'expectations'}" suite.`,
      retries: 0,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    },
    inputSchema: InputSchema,
    outputSchema: ValidationSummarySchema,
    // The caller's line, so the code hash covers the suite declared there (this module is hashed as an import).
    location: captureCallSite(['/src/sdk/', SELF]),
    fn: async (input: unknown, ctx: TaskContext) => {
      const { data } = input as z.output<typeof InputSchema>;
      const source = await localSource(data, ctx);
      const report = await validate(await ctx.offline(), source, suite, { sampleSize });
      // Name the dataset rather than the artifact's content-addressed path.
      const label = isDatasetHandle(data) ? `dataset "${data.dataset.name}"${data.dataset.version ? `@${data.dataset.version}` : ''} (${data.name})` : data.name;
      const named: Report = { ...report, source: label };
      const text = formatReport(named, { sampleRows });
      if (!named.passed) throw new BatonError('validation_failed', text, { details: summarise(named, data, sampleRows) });
      if (named.warnings > 0 || logPassed) console.log(text);
      return summarise(named, data, sampleRows);
    },
  };
  return makeTask(definition);
}
