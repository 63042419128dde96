// The compiled SQL against the reference evaluator: ~1,000 generated runs in an in-memory SQLite, many filters, both
// sub-select strategies, order-by with keyset and offset paging; and the time of an OR filter over 100,000 runs.
// (test/tracking-search.test.ts runs random filters through the store on SQLite and PostgreSQL.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { BatonError } from '../../../errors.ts';
import { DIALECT_WORDS, MIGRATIONS } from './schema.ts';
import { parseFilter, parseOrderBy } from '../../../tracking/search/parser.ts';
import { searchInMemory, textNumber, type RunRecord } from '../../../tracking/search/evaluate.ts';
import { FILTERS, generateRuns as generate, ORDER_BYS } from '../../../tracking/search/generate.ts';
import { compileFilter, compileSearch, likeToGlob, nextPageToken, type Strategy } from './search.ts';

/** An in-memory SQLite with the store's schema (every migration), holding `runs`. */
function load(runs: RunRecord[]): Database.Database {
  const db = new Database(':memory:');
  for (const m of MIGRATIONS) for (const s of m.sql(DIALECT_WORDS.sqlite)) db.exec(s);
  const insRun = db.prepare('INSERT INTO tracking_runs (id, experiment, name, status, start_time, end_time) VALUES (?, ?, ?, ?, ?, ?)');
  const insParam = db.prepare('INSERT INTO tracking_params (run_id, key, value, value_num) VALUES (?, ?, ?, ?)');
  const insMetric = db.prepare('INSERT INTO tracking_latest_metrics (run_id, key, value, step, ts) VALUES (?, ?, ?, ?, ?)');
  const insTag = db.prepare('INSERT INTO tracking_tags (run_id, key, value, value_num) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const run of runs) {
      insRun.run(run.id, run.experiment, run.name, run.status, run.startTime, run.endTime);
      for (const [k, v] of Object.entries(run.params)) insParam.run(run.id, k, v, textNumber(v));
      for (const [k, v] of Object.entries(run.metrics)) insMetric.run(run.id, k, v, 10, run.startTime);
      for (const [k, v] of Object.entries(run.tags)) insTag.run(run.id, k, v, textNumber(v));
    }
  })();
  db.exec('ANALYZE');
  return db;
}

function sqlIds(db: Database.Database, filter: string, strategy: Strategy): string[] {
  const where = compileFilter(filter, { dialect: 'sqlite', strategy });
  assert.ok(!where.sql.includes("'?'"));
  const rows = db.prepare(`SELECT r.id FROM tracking_runs r WHERE ${where.sql}`).all(...where.params) as { id: string }[];
  return rows.map((x) => x.id).sort();
}

test('compiled filters return exactly the runs the reference evaluator selects', () => {
  const runs = generate(1000, 42, true);
  const db = load(runs);
  try {
    for (const f of FILTERS) {
      const expected = searchInMemory(runs, parseFilter(f))
        .map((x) => x.id)
        .sort();
      for (const strategy of ['in', 'exists'] as const) assert.deepEqual(sqlIds(db, f, strategy), expected, `${strategy}: ${f}`);
      assert.ok(expected.length > 0 && expected.length < runs.length, `filter selects a strict subset: ${f} (${expected.length})`);
    }
    // And the run set the experiment filter narrows to.
    const q = compileSearch({ dialect: 'sqlite', filter: 'metrics.auc > 0.5', experiments: ['exp-b'], limit: 10_000 });
    const got = (db.prepare(q.sql).all(...q.params) as { id: string }[]).map((x) => x.id).sort();
    assert.deepEqual(got, searchInMemory(runs.filter((x) => x.experiment === 'exp-b'), parseFilter('metrics.auc > 0.5')).map((x) => x.id).sort());
  } finally {
    db.close();
  }
});

test('numeric-looking params: what compares as a number', () => {
  const runs = generate(1000, 42, true);
  const depths = (f: string): string[] => [...new Set(searchInMemory(runs, parseFilter(f)).map((x) => x.params['depth']!))].sort();
  assert.deepEqual(depths('params.depth = 6'), ['6', '6.0']);
  assert.deepEqual(depths('params.depth = 10'), ['10', '1E+1', '1e1']);
  assert.ok(!depths('params.depth != 6').some((d) => ['six', ' 6', '06', '+6', '6.', '.5', '6', '6.0'].includes(d)));
  assert.deepEqual(depths("params.depth = ' 6'"), [' 6']);
});

test('order-by with keyset paging and offset paging agrees with the reference order', () => {
  const runs = generate(1000, 7, true);
  const db = load(runs);
  try {
    const filters = ["params.model != 'lr'", '', 'metrics.loss > 2', 'params.depth >= 2'];
    const cases = ORDER_BYS.map((o, i): [string, string] => [o, filters[i % filters.length]!]);
    for (const [orderBy, filter] of cases) {
      const expected = searchInMemory(runs, parseFilter(filter), parseOrderBy(orderBy)).map((x) => x.id);
      const got: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 100; page++) {
        const q = compileSearch({ dialect: 'sqlite', filter, orderBy, limit: 37, ...(token ? { pageToken: token } : {}) });
        const rows = db.prepare(q.sql).all(...q.params) as Record<string, unknown>[];
        got.push(...rows.map((x) => String(x['id'])));
        const next = nextPageToken(rows, q);
        if (next === null) break;
        token = next;
      }
      assert.deepEqual(got, expected, `keyset: order by ${orderBy} where ${filter}`);
      const q = compileSearch({ dialect: 'sqlite', filter, orderBy, limit: 25, offset: 50 });
      assert.deepEqual((db.prepare(q.sql).all(...q.params) as { id: string }[]).map((x) => x.id), expected.slice(50, 75), `offset: ${orderBy}`);
    }
    assert.throws(() => compileSearch({ dialect: 'sqlite', orderBy: 'metrics.auc', pageToken: 'garbage' }), (e: unknown) => e instanceof BatonError && e.code === 'usage');
    assert.throws(() => compileSearch({ dialect: 'sqlite', limit: 0 }), BatonError);
  } finally {
    db.close();
  }
});

test('PostgreSQL text: no ? inside SQL literals, ASCII-folding ILIKE, COLLATE "C", typed numbers; NUL refused', () => {
  // The PostgreSQL SQL runs for real in test/tracking-search.test.ts; here, its shape.
  const q = compileSearch({ dialect: 'postgres', filter: "params.depth >= 6 and tags.t ilike 'aB%' and tags.u like 'b_' and attributes.duration > 1.5", orderBy: 'params.model DESC' });
  assert.equal((q.sql.match(/\?/g) ?? []).length, q.params.length);
  assert.match(q.sql, /translate\(t\.value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'\) LIKE \? ESCAPE '\\'/);
  assert.ok(q.params.includes('ab%'), 'the ILIKE pattern is folded too');
  assert.match(q.sql, /t\.value LIKE \? ESCAPE '\\'/);
  assert.match(q.sql, /o0\.value COLLATE "C" DESC/);
  assert.match(q.sql, /p\.value_num >= \?/);
  assert.match(q.sql, /\(r\.end_time - r\.start_time\) > CAST\(\? AS DOUBLE PRECISION\)/);
  assert.doesNotMatch(compileFilter('attributes.start_time > 1700000000000', { dialect: 'postgres' }).sql, /CAST/, 'a whole number stays a BIGINT parameter (the index applies)');
  assert.throws(() => compileFilter("params.model = 'a\\0b'", { dialect: 'postgres' }), (e: unknown) => e instanceof BatonError && e.code === 'usage' && /NUL/.test(e.message));
  const s = compileSearch({ dialect: 'sqlite', filter: "params.depth >= 6 and tags.t ilike 'a%' and tags.u like 'b_'" });
  assert.equal((s.sql.match(/\?/g) ?? []).length, s.params.length);
  assert.deepEqual([likeToGlob('a%b_c'), likeToGlob('50\\%*?[x]'), likeToGlob('\\\\_')], ['a*b?c', '50%[*][?][[]x]', '\\?']);
});

test('timing: an OR filter over 100,000 runs', (t) => {
  const runs = generate(100_000, 1, false);
  const started = performance.now();
  const db = load(runs);
  t.diagnostic(`loaded 100,000 runs (${runs.length * 5} rows incl. params/metrics/tags) in ${Math.round(performance.now() - started)} ms`);
  try {
    // The second filter has a numeric param comparison: a range scan of the (key, value_num, run_id) index.
    for (const filter of ["metrics.auc > 0.9 and (params.model = 'rf' or tags.team = 'ml')", "metrics.auc > 0.9 and (params.model = 'rf' or params.depth >= 11)"]) {
      const expected = searchInMemory(runs, parseFilter(filter)).length;
      const time = (fn: () => unknown): number => {
        fn();
        const ms: number[] = [];
        for (let i = 0; i < 5; i++) {
          const s = performance.now();
          fn();
          ms.push(performance.now() - s);
        }
        return ms.sort((a, b) => a - b)[2]!;
      };
      for (const strategy of ['in', 'exists'] as const) {
        const all = compileFilter(filter, { dialect: 'sqlite', strategy });
        const stmtAll = db.prepare(`SELECT r.id FROM tracking_runs r WHERE ${all.sql}`);
        assert.equal(stmtAll.all(...all.params).length, expected);
        const page = compileSearch({ dialect: 'sqlite', strategy, filter, orderBy: 'metrics.auc DESC', limit: 100 });
        const stmtPage = db.prepare(page.sql);
        const msAll = time(() => stmtAll.all(...all.params));
        const msPage = time(() => stmtPage.all(...page.params));
        t.diagnostic(`${strategy} | ${filter} | all ${expected} matching ids ${msAll.toFixed(1)} ms; first page of 100 by metrics.auc DESC ${msPage.toFixed(1)} ms (median of 5)`);
        assert.ok(msPage < 2000);
      }
    }
  } finally {
    db.close();
  }
});
