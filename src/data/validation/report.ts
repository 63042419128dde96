/**
 * What `validate` returns, and its human rendering. Shaped after Great Expectations' validation results (success,
 * unexpected count and percent, a partial list of unexpected rows) with TFDV's severity: a report fails only when
 * a `fail` expectation fails; `warn` ones are listed but do not fail it.
 */
import type { Row } from '../../ports/offline.ts';
import type { Severity } from './suite.ts';

export type ResultKind = 'columns' | 'type' | 'notNull' | 'range' | 'inSet' | 'matches' | 'unique' | 'nullShare' | 'rowCount' | 'freshness' | 'sql';

export interface Observed {
  /** Rows that violate the expectation (for unique: rows beyond the first with the same key; for nullShare: nulls). */
  violations?: number;
  /** violations / rows. */
  share?: number;
  /** A measured value: the row count, the newest timestamp (ISO), the column's actual type, missing columns. */
  value?: string | number | null;
  /** freshness: now − newest, in ms. */
  ageMs?: number;
}

export interface ExpectationResult {
  name: string;
  kind: ResultKind;
  /** The column checked, for single-column expectations. */
  column?: string;
  /** The key columns, for unique. */
  columns?: string[];
  severity: Severity;
  passed: boolean;
  /** What was expected, in words: `delay in [-100, 2000]`. */
  expected: string;
  observed: Observed;
  /** Up to `sampleSize` offending rows (for unique: duplicated keys with their row count); only when failed. */
  sample: Row[];
  /** Why it was not evaluated (e.g. its column has the wrong type, reported by the schema check). */
  note?: string;
}

export interface Report {
  suite: string;
  source: string;
  rows: number;
  /** No `fail`-severity expectation failed. */
  passed: boolean;
  results: ExpectationResult[];
  /** Counts over results. */
  failed: number;
  warnings: number;
  /** Queries run against the data (one aggregate pass + custom checks + sample fetches). */
  queries: number;
  durationMs: number;
}

const int = (n: number): string => n.toLocaleString('en-US');

function percent(share: number): string {
  if (share === 0) return '0%';
  const p = share * 100;
  return `${p >= 1 ? p.toFixed(1) : p >= 0.01 ? p.toFixed(2) : Number(p.toPrecision(2))}%`;
}

export function formatDuration(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${int(Math.round(s / 86400))} days`;
}

function cellText(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

function rowText(row: Row, maxChars = 160): string {
  const text = JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, cellText(v)])));
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** One line saying what was observed. */
export function describeObserved(r: ExpectationResult, rows: number): string {
  if (r.note) return r.note;
  const o = r.observed;
  switch (r.kind) {
    case 'columns':
      return `${o.value}`;
    case 'type':
      return `is ${o.value}`;
    case 'rowCount':
      return `${int(Number(o.value))} rows`;
    case 'freshness':
      return o.value === null ? 'no timestamps (all null or no rows)' : `newest ${o.value} is ${formatDuration(o.ageMs ?? 0)} old`;
    case 'nullShare':
      return `${int(o.violations ?? 0)} of ${int(rows)} rows null (${percent(o.share ?? 0)})`;
    case 'unique':
      return `${int(o.violations ?? 0)} duplicate rows (${percent(o.share ?? 0)})`;
    case 'sql':
      return `${int(o.violations ?? 0)} violations`;
    default:
      return `${int(o.violations ?? 0)} of ${int(rows)} rows violate (${percent(o.share ?? 0)})`;
  }
}

/**
 * A report for people: a summary line, then each violated expectation (failures first, then warnings) with what
 * was expected, what was observed and a sample of offending rows.
 */
export function formatReport(report: Report, options: { sampleRows?: number } = {}): string {
  const show = options.sampleRows ?? 3;
  const passedCount = report.results.filter((r) => r.passed).length;
  const lines = [
    `Validation "${report.suite}" of ${report.source}: ${report.passed ? 'PASSED' : 'FAILED'} — ${report.failed} failed, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}, ${passedCount} passed ` +
      `(${int(report.rows)} rows, ${report.queries} queries, ${(report.durationMs / 1000).toFixed(2)} s)`,
  ];
  const violated = report.results.filter((r) => !r.passed).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'fail' ? -1 : 1));
  for (const r of violated) {
    lines.push(`  ${r.severity === 'fail' ? '✗ FAIL' : '! WARN'} ${r.name}: expected ${r.expected}; ${describeObserved(r, report.rows)}`);
    for (const row of r.sample.slice(0, show)) lines.push(`      e.g. ${rowText(row)}`);
    if (r.sample.length > show) lines.push(`      … ${r.sample.length - show} more in the sample`);
  }
  return lines.join('\n');
}
