/**
 * `validate(engine, source, suite)`: runs a suite over a data file and returns a Report.
 *
 * Scans, in order: (1) ONE aggregate query computing the row count and every built-in expectation at once;
 * (2) custom SQL checks, one count query each (concurrently with 1); (3) samples, only for expectations that
 * failed — one query for all row-level ones (a UNION ALL of `… WHERE offending LIMIT n`), one per failed unique
 * check and per failed custom check. A clean dataset costs one scan plus one per custom check.
 */
import { sourcePath, type Cell, type OfflineEngine, type Row, type Source } from '../../ports/offline.ts';
import { SuiteError } from './errors.ts';
import { buildPlan, type AggregateCheck, type CustomCheck } from './plan.ts';
import type { ExpectationResult, Report } from './report.ts';
import { parseSuite } from './suite.ts';

export interface ValidateOptions {
  /** Offending rows kept per failed expectation. @default 5 */
  sampleSize?: number;
  /** The reference time for freshness checks without their own `now` (ms or Date). @default Date.now() */
  now?: number | Date;
}

const CHECK = '__baton_expectation';

/** The data as the table `source`, for custom checks. Trailing semicolons are dropped so the query nests. */
const withSource = (relation: string, query: string, outer: (q: string) => string): string =>
  `WITH source AS (SELECT * FROM ${relation}) ${outer(query.trim().replace(/;+\s*$/, ''))}`;

export async function validate(engine: OfflineEngine, source: Source, suiteInput: unknown, options: ValidateOptions = {}): Promise<Report> {
  const started = performance.now();
  const suite = parseSuite(suiteInput);
  const sampleSize = options.sampleSize ?? 5;
  const now = options.now === undefined ? Date.now() : options.now instanceof Date ? options.now.getTime() : options.now;
  const name = sourcePath(source);
  const relation = await engine.relation(source);
  const plan = buildPlan(suite, await engine.describe(source), now, `"${name}"`);
  let queries = 0;
  const run = (sql: string): Promise<Row[]> => {
    queries++;
    return engine.query(sql);
  };

  // (1) + (2): the shared aggregate pass and the custom counts, concurrently.
  const aggregates = plan.filter((p): p is AggregateCheck => p.type === 'aggregate');
  const customs = plan.filter((p): p is CustomCheck => p.type === 'custom');
  const selects: string[] = ['count(*) AS "rows"'];
  const aliases = new Map<string, string>(); // expression → alias: a shared expression is computed once
  const slots = aggregates.map((check) =>
    check.aggregates.map((expr) => {
      let alias = aliases.get(expr);
      if (!alias) {
        alias = `a${aliases.size}`;
        aliases.set(expr, alias);
        selects.push(`${expr} AS ${alias}`);
      }
      return alias;
    }),
  );
  const [[totals], customCounts] = await Promise.all([run(`SELECT ${selects.join(', ')} FROM ${relation}`), Promise.all(customs.map((c) => customCount(c, relation, run)))]);
  const rows = Number(totals?.rows ?? 0);

  const results = new Map<object, ExpectationResult>();
  aggregates.forEach((check, i) => {
    const { passed, observed } = check.evaluate(slots[i]!.map((alias) => totals?.[alias] ?? null), rows);
    results.set(check, { ...check.base, passed, observed, sample: [] });
  });
  customs.forEach((check, i) => {
    const violations = customCounts[i]!;
    results.set(check, { ...check.base, passed: violations <= check.max, observed: { violations, share: rows ? violations / rows : 0 }, sample: [] });
  });

  // (3) samples for what failed.
  if (sampleSize > 0) {
    const failed = (c: AggregateCheck | CustomCheck) => !results.get(c)!.passed;
    const rowLevel = aggregates.filter((c) => c.offending && failed(c));
    const fetches: Promise<void>[] = [];
    if (rowLevel.length) {
      const union = rowLevel.map((c, i) => `(SELECT ${i} AS ${CHECK}, * FROM ${relation} WHERE ${c.offending} LIMIT ${sampleSize})`).join(' UNION ALL ');
      fetches.push(
        run(union).then((sampled) => {
          for (const row of sampled) {
            const { [CHECK]: index, ...rest } = row;
            results.get(rowLevel[Number(index)]!)!.sample.push(rest);
          }
        }),
      );
    }
    for (const c of aggregates) if (c.sampleSql && failed(c)) fetches.push(run(c.sampleSql(relation, sampleSize)).then((s) => void results.get(c)!.sample.push(...s)));
    for (const c of customs) {
      if (c.returns === 'rows' && failed(c)) fetches.push(runCustom(c, relation, run, (q) => `SELECT * FROM (${q}) AS offending LIMIT ${sampleSize}`).then((s) => void results.get(c)!.sample.push(...s)));
    }
    await Promise.all(fetches);
  }

  const ordered = plan.map((p) => (p.type === 'settled' ? p.result : results.get(p)!));
  const failed = ordered.filter((r) => !r.passed && r.severity === 'fail').length;
  return {
    suite: suite.name,
    source: name,
    rows,
    passed: failed === 0,
    results: ordered,
    failed,
    warnings: ordered.filter((r) => !r.passed && r.severity === 'warn').length,
    queries,
    durationMs: performance.now() - started,
  };
}

async function runCustom(check: CustomCheck, relation: string, run: (sql: string) => Promise<Row[]>, outer: (q: string) => string): Promise<Row[]> {
  try {
    return await run(withSource(relation, check.query, outer));
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new SuiteError(
      'check_failed_to_run',
      `Custom check "${check.base.name}" failed to run: ${why}. Write it against the table "source", e.g. SELECT * FROM source WHERE delay > 2000.`,
      { cause: err },
    );
  }
}

async function customCount(check: CustomCheck, relation: string, run: (sql: string) => Promise<Row[]>): Promise<number> {
  if (check.returns === 'rows') {
    const [row] = await runCustom(check, relation, run, (q) => `SELECT count(*) AS n FROM (${q}) AS offending`);
    return Number(row?.n ?? 0);
  }
  const result = await runCustom(check, relation, run, (q) => q);
  const values: Cell[] = result.length === 1 ? Object.values(result[0]!) : [];
  const value = values.length === 1 ? Number(values[0]) : Number.NaN;
  if (!Number.isFinite(value)) {
    throw new SuiteError(
      'check_failed_to_run',
      `Custom check "${check.base.name}" has returns: 'count' but its query returned ${result.length} rows of ${values.length || Object.keys(result[0] ?? {}).length} columns; it must return one row with one number (e.g. SELECT count(*) FROM source WHERE …).`,
    );
  }
  return value;
}
