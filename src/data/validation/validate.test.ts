import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { OfflineError, type Row } from '../../ports/offline.ts';
import { DuckDBOfflineEngine } from '../../stores/offline/duckdb/engine.ts';
import { formatReport, freshness, inSet, matches, nullShare, range, rowCount, sql, SuiteError, unique, validate, type ExpectationResult, type Report, type SuiteInput } from './index.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/**
 * 100 orders, id 1..100, ts = 2024-01-01 + id hours. With `bad`: amount -5 (id 7) and 150 (id 13), status 'lost'
 * (id 20), code 'ab1' (id 30), email null (ids 40–42), order_id 50 repeated on id 51.
 */
function orders(bad: boolean): string {
  const lines = ['id,order_id,amount,status,code,email,ts'];
  for (let id = 1; id <= 100; id++) {
    const amount = bad && id === 7 ? -5 : bad && id === 13 ? 150 : (id % 90) + 0.5;
    const status = bad && id === 20 ? 'lost' : id % 3 ? 'ok' : 'late';
    const code = bad && id === 30 ? 'ab1' : ['ABC', 'XYZ', 'QRS'][id % 3];
    const email = bad && id >= 40 && id <= 42 ? '' : `u${id}@x.org`;
    const ts = new Date(T0 + id * HOUR).toISOString().slice(0, 19).replace('T', ' ');
    lines.push([id, bad && id === 51 ? 50 : id, amount, status, code, email, ts].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const ids = (sample: Row[]): number[] => sample.map((r) => Number(r.id)).sort((a, b) => a - b);
const byName = (report: Report, name: string): ExpectationResult => {
  const r = report.results.find((x) => x.name === name);
  assert.ok(r, `no result named ${name}; have ${report.results.map((x) => x.name).join(', ')}`);
  return r;
};
const rejectsSuite = (promise: Promise<unknown>, reason: string, pattern: RegExp) =>
  assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SuiteError, `expected a SuiteError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, pattern);
    return true;
  });

describe('validate', () => {
  let dir: string;
  let engine: DuckDBOfflineEngine;
  let goodCsv: string;
  let badCsv: string;
  let badParquet: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-validate-'));
    engine = await DuckDBOfflineEngine.open({ threads: 2 });
    goodCsv = join(dir, 'good.csv');
    badCsv = join(dir, 'bad.csv');
    badParquet = join(dir, 'bad.parquet');
    writeFileSync(goodCsv, orders(false));
    writeFileSync(badCsv, orders(true));
    await engine.query(`COPY (SELECT * FROM ${await engine.relation(badCsv)}) TO '${badParquet}' (FORMAT parquet)`);
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const full: SuiteInput = {
    name: 'orders',
    schema: { id: 'integer', order_id: 'integer', amount: 'number', status: 'string', code: 'string', email: { type: 'string', nullable: true }, ts: 'timestamp' },
    strict: true,
    expectations: [
      range('amount', { min: 0, max: 100 }),
      inSet('status', ['ok', 'late']),
      matches('code', /^[A-Z]{3}$/),
      unique('order_id'),
      nullShare('email', { max: 0.02 }),
      rowCount({ min: 1, max: 1000 }),
      freshness('ts', { maxAgeMs: 24 * HOUR }),
    ],
  };
  const now = T0 + 110 * HOUR; // 10 h after the newest ts

  it('passes a clean file with every check computed in one scan', async () => {
    const report = await validate(engine, goodCsv, full, { now });
    assert.equal(report.passed, true, formatReport(report));
    assert.equal(report.rows, 100);
    assert.equal(report.failed, 0);
    assert.equal(report.queries, 1, 'one aggregate pass, no sample fetches');
    assert.ok(report.results.every((r) => r.passed && r.sample.length === 0));
    assert.deepEqual(byName(report, 'freshness(ts)').observed, { value: new Date(T0 + 100 * HOUR).toISOString(), ageMs: 10 * HOUR });
  });

  for (const kind of ['csv', 'parquet'] as const) {
    it(`fails each expectation on exactly its bad rows, with counts and samples (${kind})`, async () => {
      const report = await validate(engine, kind === 'csv' ? badCsv : badParquet, full, { now });
      assert.equal(report.passed, false);
      const failed = report.results.filter((r) => !r.passed).map((r) => r.name);
      assert.deepEqual(failed, ['range(amount)', 'inSet(status)', 'matches(code)', 'unique(order_id)', 'nullShare(email)']);
      assert.equal(report.failed, 5);

      const amount = byName(report, 'range(amount)');
      assert.deepEqual(amount.observed, { violations: 2, share: 0.02 });
      assert.deepEqual(ids(amount.sample), [7, 13]);
      assert.deepEqual(amount.sample.map((r) => r.amount).sort(), [-5, 150]);
      assert.equal(amount.column, 'amount');
      assert.equal(amount.severity, 'fail');
      assert.deepEqual(ids(byName(report, 'inSet(status)').sample), [20]);
      assert.deepEqual(ids(byName(report, 'matches(code)').sample), [30]);
      assert.deepEqual(byName(report, 'unique(order_id)').observed.violations, 1);
      assert.deepEqual(byName(report, 'unique(order_id)').sample, [{ order_id: 50, rows: 2 }]);
      const nulls = byName(report, 'nullShare(email)');
      assert.deepEqual(nulls.observed, { violations: 3, share: 0.03 });
      assert.deepEqual(ids(nulls.sample), [40, 41, 42]);
      assert.equal(report.queries, 3, 'aggregate pass + one union of row samples + the unique sample');
      assert.ok(report.results.filter((r) => r.passed).every((r) => r.sample.length === 0), 'no samples for passing checks');
    });
  }

  it('keeps at most sampleSize offending rows while counting them all', async () => {
    const report = await validate(engine, badParquet, { expectations: [range('id', { max: 10 }), range('id', { min: 0, max: 95, strictMax: true })] }, { sampleSize: 2 });
    assert.deepEqual(byName(report, 'range(id)').observed.violations, 90);
    assert.equal(byName(report, 'range(id)').sample.length, 2);
    assert.deepEqual(ids(byName(report, 'range(id) #2').sample), [95, 96]);
    assert.equal(byName(report, 'range(id) #2').observed.violations, 6);
  });

  it('checks bounds on timestamps, row-count bounds, and freshness against the injected now', async () => {
    const report = await validate(
      engine,
      badCsv,
      {
        expectations: [
          range('ts', { max: new Date(T0 + 96 * HOUR) }),
          range('ts', { min: '2024-01-01 01:00:00', name: 'from new year' }),
          rowCount({ min: 101 }),
          rowCount({ min: 100, max: 100, name: 'exactly 100' }),
          freshness('ts', { maxAgeMs: HOUR, name: 'stale' }),
          freshness('ts', { maxAgeMs: HOUR, now: T0 + 100.5 * HOUR, name: 'fresh' }),
        ],
      },
      { now },
    );
    assert.deepEqual(ids(byName(report, 'range(ts)').sample), [97, 98, 99, 100]);
    assert.equal(byName(report, 'from new year').passed, true);
    assert.deepEqual(byName(report, 'rowCount').observed, { value: 100 });
    assert.equal(byName(report, 'rowCount').passed, false);
    assert.equal(byName(report, 'exactly 100').passed, true);
    assert.equal(byName(report, 'stale').passed, false);
    assert.equal(byName(report, 'stale').observed.ageMs, 10 * HOUR);
    assert.equal(byName(report, 'fresh').passed, true);
  });

  it('reports warn-severity failures without failing the report', async () => {
    const report = await validate(engine, badCsv, { expectations: [range('amount', { min: 0, severity: 'warn' }), nullShare('email', { max: 0.05 }), unique(['status', 'code'], { severity: 'warn' })] });
    assert.equal(report.passed, true);
    assert.equal(report.failed, 0);
    assert.equal(report.warnings, 2);
    assert.deepEqual(byName(report, 'range(amount)').observed, { violations: 1, share: 0.01 });
    assert.equal(byName(report, 'nullShare(email)').passed, true);
    assert.ok(byName(report, 'unique(status, code)').observed.violations! > 90);
    assert.match(formatReport(report), /PASSED — 0 failed, 2 warnings[\s\S]*! WARN range\(amount\): expected amount ≥ 0; 1 of 100 rows violate \(1\.0%\)\n\s+e\.g\. \{"id":7,/);
  });

  it('reports schema violations: wrong type, nulls in a non-nullable column, a missing column, extra columns', async () => {
    const report = await validate(engine, badCsv, {
      schema: { id: 'integer', amount: 'integer', email: 'string', country: 'string', ts: { type: 'timestamp', nullable: true } },
      strict: true,
      expectations: [range('amount', { min: 0 }), inSet('country', ['NL'])],
    });
    assert.equal(report.passed, false);
    assert.deepEqual(byName(report, 'type(amount)').observed, { value: 'DOUBLE' });
    assert.equal(byName(report, 'type(amount)').passed, false);
    assert.equal(byName(report, 'type(id)').passed, true);
    assert.deepEqual(byName(report, 'notNull(email)').observed, { violations: 3, share: 0.03 });
    assert.deepEqual(ids(byName(report, 'notNull(email)').sample), [40, 41, 42]);
    assert.equal(report.results.some((r) => r.name === 'notNull(ts)'), false, 'nullable: true adds no null check');
    assert.match(byName(report, 'type(country)').note!, /missing; the data has id, order_id, amount/);
    assert.match(byName(report, 'columns').observed.value as string, /unexpected columns: order_id, status, code/);
    assert.match(byName(report, 'range(amount)').note!, /not evaluated: column "amount" is DOUBLE, not integer/);
    assert.match(byName(report, 'inSet(country)').note!, /column "country" is missing/);
    const text = formatReport(report);
    assert.match(text, /✗ FAIL type\(amount\): expected type integer; is DOUBLE/);
    assert.match(text, /✗ FAIL notNull\(email\): expected no nulls in email; 3 of 100 rows violate \(3\.0%\)/);
  });

  it('refuses an expectation on an unknown column, naming it and listing the columns', async () => {
    await rejectsSuite(validate(engine, badCsv, { expectations: [range('amout', { min: 0 })] }), 'unknown_column', /"range\(amout\)" refers to column "amout", which ".*bad\.csv" does not have\. Its columns: id, order_id, amount, status, code, email, ts\./);
    await rejectsSuite(validate(engine, badCsv, { expectations: [unique(['id', 'nope'], { name: 'key' })] }), 'unknown_column', /"key" refers to column "nope"/);
  });

  it('refuses expectations that cannot apply to the column type', async () => {
    await rejectsSuite(validate(engine, badCsv, { expectations: [range('status', { min: 0 })] }), 'incompatible_type', /"range\(status\)" cannot apply to column "status" of type VARCHAR/);
    await rejectsSuite(validate(engine, badCsv, { expectations: [freshness('id', { maxAgeMs: 1 })] }), 'incompatible_type', /needs a date or timestamp column/);
    await rejectsSuite(validate(engine, badCsv, { expectations: [matches('id', '^1')] }), 'incompatible_type', /needs a string column/);
    await rejectsSuite(validate(engine, badCsv, { expectations: [inSet('id', ['1'])] }), 'incompatible_type', /needs number values/);
  });

  it('refuses an invalid suite definition, listing each problem with its path', async () => {
    await rejectsSuite(
      validate(engine, badCsv, { expectations: [{ kind: 'range', column: 'id' }, nullShare('email', { max: 2 }), rowCount({ min: 5, max: 1 }), { kind: 'nope' }] }),
      'invalid_suite',
      /expectations\.0: range needs min, max or both[\s\S]*expectations\.1\.max[\s\S]*expectations\.2: rowCount has min > max[\s\S]*expectations\.3/,
    );
    await rejectsSuite(validate(engine, badCsv, { expectations: [rowCount({ min: 1, name: 'n' }), rowCount({ max: 1, name: 'n' })] }), 'invalid_suite', /two expectations are named "n"/);
  });

  it('runs custom SQL checks over the table `source`: offending rows or a count, with a tolerance', async () => {
    const report = await validate(engine, badParquet, {
      expectations: [
        sql('ok orders have a code', "SELECT * FROM source WHERE status = 'ok' AND code NOT IN ('ABC', 'XYZ', 'QRS');"),
        sql('cheap', 'SELECT id, amount FROM source WHERE amount < 1', { max: 1, severity: 'warn' }),
        sql('dup count', 'SELECT count(*) - count(DISTINCT order_id) FROM source', { returns: 'count' }),
        sql('own CTE', 'WITH neg AS (SELECT * FROM source WHERE amount < 0) SELECT * FROM neg'),
      ],
    });
    assert.equal(byName(report, 'ok orders have a code').passed, true);
    assert.deepEqual(byName(report, 'cheap').observed.violations, 2); // ids 7 (−5) and 90 (0.5)
    assert.equal(byName(report, 'cheap').passed, false);
    assert.deepEqual(ids(byName(report, 'cheap').sample), [7, 90]);
    assert.deepEqual(byName(report, 'dup count').observed.violations, 1);
    assert.deepEqual(byName(report, 'dup count').sample, []);
    assert.deepEqual(ids(byName(report, 'own CTE').sample), [7]);
    assert.equal(report.failed, 2);
    assert.equal(report.warnings, 1);
  });

  it('says how to fix a custom check that fails to run or returns the wrong shape', async () => {
    await rejectsSuite(validate(engine, badCsv, { expectations: [sql('typo', 'SELECT * FROM sourc')] }), 'check_failed_to_run', /Custom check "typo" failed to run: .*sourc.*Write it against the table "source"/);
    await rejectsSuite(validate(engine, badCsv, { expectations: [sql('two', 'SELECT 1 AS a, 2 AS b', { returns: 'count' })] }), 'check_failed_to_run', /must return one row with one number/);
  });

  it('passes file errors through: empty file, malformed CSV', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    await assert.rejects(validate(engine, empty, { expectations: [rowCount({ min: 1 })] }), (err: unknown) => err instanceof OfflineError && err.reason === 'empty_file');
    const ragged = join(dir, 'ragged.csv');
    writeFileSync(ragged, 'a,b\n1,2\n3\n4,5\n');
    await assert.rejects(validate(engine, ragged, {}), (err: unknown) => err instanceof OfflineError && err.reason === 'malformed_file' && /Line 3 has 1 fields where the header has 2/.test(err.message));
  });

  it('validates the real seattle-weather.csv', async () => {
    const path = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url));
    const report = await validate(engine, path, {
      name: 'seattle-weather',
      schema: { date: 'date', precipitation: 'float', temp_max: 'float', temp_min: 'float', wind: 'float', weather: 'string' },
      strict: true,
      expectations: [
        unique('date'),
        range('date', { min: '2012-01-01', max: '2015-12-31' }),
        range('temp_max', { min: -30, max: 50 }),
        range('precipitation', { min: 0 }),
        inSet('weather', ['drizzle', 'rain', 'sun', 'snow', 'fog']),
        rowCount({ min: 1461, max: 1461 }),
        sql('min not above max', 'SELECT * FROM source WHERE temp_min > temp_max'),
        range('temp_max', { max: 30, severity: 'warn', name: 'hot days' }),
      ],
    });
    assert.equal(report.passed, true, formatReport(report));
    assert.equal(report.rows, 1461);
    const hot = byName(report, 'hot days');
    assert.equal(hot.passed, false);
    assert.ok(hot.observed.violations! > 0 && hot.sample.length === 5 && hot.sample.every((r) => Number(r.temp_max) > 30));
  });
});
