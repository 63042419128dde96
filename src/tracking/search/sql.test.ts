// The compiled SQL against the reference evaluator: ~1,000 generated runs in an in-memory SQLite, many filters, both
// sub-select strategies, order-by with keyset and offset paging; and the time of an OR filter over 100,000 runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { BatonError } from '../../errors.ts';
import { parseFilter, parseOrderBy } from './parser.ts';
import { searchInMemory, type RunRecord } from './evaluate.ts';
import { compileFilter, compileSearch, likeToGlob, nextPageToken, RECOMMENDED_INDEXES, type Strategy } from './sql.ts';

const SCHEMA = [
  `CREATE TABLE tracking_runs (id TEXT PRIMARY KEY, experiment TEXT NOT NULL, name TEXT, status TEXT NOT NULL,
     start_time BIGINT NOT NULL, end_time BIGINT)`,
  'CREATE TABLE tracking_params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))',
  `CREATE TABLE tracking_latest_metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION,
     step BIGINT NOT NULL, ts BIGINT NOT NULL, PRIMARY KEY (run_id, key))`,
  'CREATE TABLE tracking_tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))',
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.UTC(2024, 0, 1);

function generate(n: number, seed: number, rich: boolean): RunRecord[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const runs: RunRecord[] = [];
  for (let i = 0; i < n; i++) {
    const status = pick(['FINISHED', 'FINISHED', 'FAILED', 'RUNNING']);
    const startTime = T0 + Math.floor(r() * 30 * 86_400_000);
    const run: RunRecord = {
      id: `${Math.floor(r() * 0xffffff).toString(16).padStart(6, '0')}-${i}`,
      experiment: pick(['exp-a', 'exp-b', 'exp-c']),
      name: r() < 0.1 ? null : rich ? pick([`trial-${i}`, `Trial_${i}`, '50%off', 'a*b', 'a?b', 'x[1]', 'ab']) : `trial-${i}`,
      status,
      startTime,
      endTime: status === 'RUNNING' ? null : startTime + Math.floor(r() * 10_000),
      params: {},
      metrics: {},
      tags: {},
    };
    // Metrics rounded to 2 decimals so order-by meets ties.
    if (r() < 0.9) run.metrics['auc'] = Math.round(r() * 100) / 100;
    if (r() < 0.8) run.metrics['loss'] = Math.round(r() * 1000) / 100;
    if (rich && r() < 0.5) run.metrics['val.auc'] = Math.round(r() * 100) / 100;
    if (r() < 0.95) run.params['model'] = rich ? pick(['rf', 'xgb', 'lr', 'RF', 'Rf']) : pick(['rf', 'xgb', 'lr']);
    if (r() < 0.9) {
      run.params['depth'] = rich
        ? pick(['1', '2', '3', '4', '5', '6', '7', '8', '10', '12', '6.0', '1e1', 'six', ' 6', '06', '+6', '-3', '0.5', '6.', '.5', '1E+1'])
        : String(1 + Math.floor(r() * 12));
    }
    if (rich && r() < 0.7) run.params['lr'] = pick(['1e-05', '0.001', '0.01', '1e-3']);
    if (rich && r() < 0.6) run.params['flag'] = pick(['true', 'True', 'false', 'FALSE', 'yes']);
    if (r() < 0.7) run.tags['team'] = rich ? pick(['ml', 'ML', 'data', 'a%b', 'x_y', 'xzy', 'Ünï']) : pick(['ml', 'data']);
    if (r() < 0.5) run.tags['env'] = pick(['prod', 'dev']);
    runs.push(run);
  }
  return runs;
}

function load(runs: RunRecord[]): Database.Database {
  const db = new Database(':memory:');
  for (const s of [...SCHEMA, ...RECOMMENDED_INDEXES]) db.exec(s);
  const insRun = db.prepare('INSERT INTO tracking_runs VALUES (?, ?, ?, ?, ?, ?)');
  const insParam = db.prepare('INSERT INTO tracking_params VALUES (?, ?, ?)');
  const insMetric = db.prepare('INSERT INTO tracking_latest_metrics VALUES (?, ?, ?, ?, ?)');
  const insTag = db.prepare('INSERT INTO tracking_tags VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const run of runs) {
      insRun.run(run.id, run.experiment, run.name, run.status, run.startTime, run.endTime);
      for (const [k, v] of Object.entries(run.params)) insParam.run(run.id, k, v);
      for (const [k, v] of Object.entries(run.metrics)) insMetric.run(run.id, k, v, 10, run.startTime);
      for (const [k, v] of Object.entries(run.tags)) insTag.run(run.id, k, v);
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

const FILTERS = [
  "metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)",
  'metrics.auc != 0.5',
  'not metrics.auc = 0.5',
  'metrics.auc is null',
  'metrics.auc is not null and not metrics.auc >= 0.2',
  'metrics.`val.auc` >= 0.3 or metrics.loss < 1',
  'metrics.auc in (0.1, 0.2, 0.3) or metrics.loss not in (1, 2)',
  'params.depth >= 6',
  'params.depth = 6',
  'params.depth != 6',
  'not params.depth = 6',
  'params.depth in (1, 2, 3) or params.depth not in (6, 10)',
  "params.depth = '6'",
  "params.depth != '06'",
  'params.depth < 0 or params.depth = 0.5',
  'params.lr <= 0.001',
  "params.model in ('rf', 'xgb')",
  "params.model not in ('rf')",
  "params.model like 'r%'",
  "params.model ilike 'r%'",
  "params.model not like 'R_'",
  'params.flag = true',
  'params.flag != false',
  "tags.team like 'a\\%b'",
  "tags.team like 'x_y'",
  "tags.team ilike 'ML'",
  "tags.team = 'xzy' or tags.team = 'Ünï'",
  "tags.team is not null and not tags.env = 'prod'",
  "attributes.status = 'FAILED' or attributes.end_time is null",
  'attributes.duration > 5000',
  'not attributes.duration < 1000',
  "attributes.name like 'trial-1%'",
  "attributes.name like 'a*b' or attributes.name like 'a?b' or attributes.name like 'x[1]'",
  "attributes.name ilike 'TRIAL%'",
  'attributes.name is null',
  "attributes.experiment != 'exp-a'",
  `attributes.start_time < ${T0 + 10 * 86_400_000}`,
  "attributes.start_time >= '2024-01-20'",
  "not (metrics.auc > 0.5 or params.model = 'rf') and (tags.env = 'dev' or attributes.status != 'RUNNING')",
  "not (not tags.env is null and (params.model ilike 'R_' or metrics.loss > 5))",
];

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
    const cases: [string, string][] = [
      ['metrics.auc DESC, params.model', "params.model != 'lr'"],
      ['params.depth', ''],
      ['attributes.duration DESC', 'metrics.loss > 2'],
      ['tags.team, metrics.loss', ''],
      ['attributes.name, attributes.start_time DESC', ''],
      ['', 'metrics.auc > 0.3'],
    ];
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

test('PostgreSQL text: no ? inside SQL literals, ILIKE and COLLATE "C", regex as a parameter', () => {
  const q = compileSearch({ dialect: 'postgres', filter: "params.depth >= 6 and tags.t ilike 'a%' and tags.u like 'b_'", orderBy: 'params.model DESC' });
  assert.equal((q.sql.match(/\?/g) ?? []).length, q.params.length);
  assert.match(q.sql, /ILIKE \? ESCAPE '\\'/);
  assert.match(q.sql, /LIKE \? ESCAPE '\\'/);
  assert.match(q.sql, /o0\.value COLLATE "C" DESC/);
  assert.match(q.sql, /~ \? THEN CAST\(p\.value AS DOUBLE PRECISION\)/);
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
    // The second filter has a numeric param comparison: it reads every depth row (no index answers "looks numeric").
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
