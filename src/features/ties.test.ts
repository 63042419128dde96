import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../ports/offline.ts';
import { DuckDBOfflineEngine } from '../stores/offline/duckdb/engine.ts';
import { SqliteOnlineStore } from '../stores/online/sqlite/store.ts';
import { entity, featureView, getHistoricalFeatures, type FeatureView } from './index.ts';
import { getOnlineFeatures, materialize } from './online/index.ts';

// Adversarial data: few timestamps per key, up to 6 rows per (key, timestamp), feature values drawn from small sets
// with nulls, so ties on the timestamp and on the first features are common and only the rule separates them.
const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 10);
const KEYS = 300;
const TIMES = 8;
const ENTITY_ROWS = 12_000;

interface FeatureRow {
  user_id: number;
  ts: number;
  tier: string | null;
  score: number | null;
  n: number | null;
}

let seed = 20_240_110;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

const featureRows: FeatureRow[] = [];
for (let k = 0; k < KEYS; k++) {
  for (let t = 0; t < TIMES; t++) {
    const copies = 1 + Math.floor(rand() * 6);
    for (let c = 0; c < copies; c++) {
      featureRows.push({ user_id: k, ts: T0 + t * 10 * MIN, tier: pick(['gold', 'silver', null]), score: pick([0.5, 1.5, -2, null]), n: pick([1, 2, 3, null]) });
    }
  }
}
// Shuffled, so the rows tied at one (key, timestamp) are scattered over the file and over DuckDB's row groups.
for (let i = featureRows.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [featureRows[i], featureRows[j]] = [featureRows[j]!, featureRows[i]!];
}
const entityRows = Array.from({ length: ENTITY_ROWS }, (_, i) => ({
  user_id: Math.floor(rand() * (KEYS + 10)), // a few keys with no feature rows
  // Exactly at a feature timestamp (the tied rows are visible), between two, or before the first.
  event_timestamp: T0 + Math.floor(rand() * TIMES) * 10 * MIN + pick([0, 0, 3 * MIN, -1]),
  label: i,
}));

const byKey = new Map<number, FeatureRow[]>();
for (const r of featureRows) byKey.set(r.user_id, [...(byKey.get(r.user_id) ?? []), r]);

/** The documented rule (ties.ts), written independently: features in name order, a value above a null. */
const FEATURES = ['n', 'score', 'tier'] as const;
function better(a: FeatureRow, b: FeatureRow): boolean {
  for (const f of FEATURES) {
    const [x, y] = [a[f], b[f]];
    if (x === y) continue;
    if (x === null) return false;
    if (y === null) return true;
    return x > y;
  }
  return false;
}
function oracle(userId: number, at: number): FeatureRow | undefined {
  let best: FeatureRow | undefined;
  for (const r of byKey.get(userId) ?? []) {
    if (r.ts > at) continue;
    if (!best || r.ts > best.ts || (r.ts === best.ts && better(r, best))) best = r;
  }
  return best;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const cell = (v: string | number | null) => (v === null ? '' : String(v));
const user = entity({ name: 'user', joinKeys: ['user_id'] });

let dir: string;
let engine: DuckDBOfflineEngine;
let csvView: FeatureView;
let parquetView: FeatureView;
let entitiesFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-ties-'));
  // Several threads: the tie problem only shows when DuckDB sorts in parallel.
  engine = await DuckDBOfflineEngine.open({ threads: 8 });
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, `user_id,ts,tier,score,n\n${featureRows.map((r) => [r.user_id, iso(r.ts), cell(r.tier), cell(r.score), cell(r.n)].join(',')).join('\n')}\n`);
  const parquet = join(dir, 'users.parquet');
  // Small row groups: many of them, read by different threads.
  await engine.query(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)`);
  entitiesFile = join(dir, 'entities.parquet');
  const entitiesCsv = join(dir, 'entities.csv');
  writeFileSync(entitiesCsv, `user_id,event_timestamp,label\n${entityRows.map((e) => `${e.user_id},${iso(e.event_timestamp)},${e.label}`).join('\n')}\n`);
  await engine.query(`COPY (SELECT * FROM read_csv('${entitiesCsv}', header = true, types = {'event_timestamp': 'TIMESTAMP'})) TO '${entitiesFile}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)`);
  // Declared out of name order: the rule compares in name order whatever the declaration.
  const common = { name: 'users', entities: [user], timestampField: 'ts', ttlMs: null, features: { tier: 'VARCHAR' as const, score: 'DOUBLE' as const, n: 'BIGINT' as const } };
  csvView = featureView({ ...common, source: { path: csv } });
  parquetView = featureView({ ...common, source: { path: parquet } });
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function training(view: FeatureView, features: string[] = ['users:tier', 'users:score', 'users:n']): Promise<Row[]> {
  const r = await getHistoricalFeatures(engine, { entities: entitiesFile, features, views: [view] });
  assert.equal(r.kind, 'rows');
  return r.kind === 'rows' ? [...r.rows].sort((a, b) => Number(a.label) - Number(b.label)) : [];
}

describe('ties between feature rows with the same key and timestamp', () => {
  it('the point-in-time join picks the row the documented rule picks, on every call, with 8 DuckDB threads', async () => {
    let tied = 0;
    const expected = entityRows.map((e) => {
      const w = oracle(e.user_id, e.event_timestamp);
      if (w && (byKey.get(e.user_id) ?? []).filter((r) => r.ts === w.ts).length > 1) tied++;
      return { tier: w?.tier ?? null, score: w?.score ?? null, n: w?.n ?? null };
    });
    assert.ok(tied > ENTITY_ROWS / 2, `most entity rows meet a tie (${tied})`);
    const features = (r: Row) => JSON.stringify({ tier: r.tier, score: r.score, n: r.n });
    // Repeated calls on the same source, and the same rows from a CSV file.
    const calls = [['parquet', parquetView], ['parquet', parquetView], ['parquet', parquetView], ['csv', csvView]] as const;
    for (const [call, [source, view]] of calls.entries()) {
      const rows = await training(view);
      assert.equal(rows.length, ENTITY_ROWS);
      const wrong = rows.filter((r, i) => features(r) !== JSON.stringify(expected[i]));
      assert.equal(wrong.length, 0, `call ${call}, ${source}: ${wrong.length} rows differ from the rule, e.g. label ${wrong[0]?.label}`);
    }
    // Asking for one feature takes it from the same row as asking for all.
    assert.deepEqual((await training(parquetView, ['users:score'])).map((r) => r.score), expected.map((e) => e.score));
  });

  it('a Parquet training set with orderBy is byte-identical across calls, even when orderBy leaves ties', async () => {
    const write = async (name: string) => {
      const path = join(dir, name);
      await getHistoricalFeatures(engine, { entities: entitiesFile, features: [parquetView], output: { path, orderBy: ['user_id'] } });
      return readFileSync(path);
    };
    const first = await write('a.parquet');
    for (const name of ['b.parquet', 'c.parquet']) assert.ok(first.equals(await write(name)), `${name} has the same bytes as a.parquet`);
    // And it holds what the rule picks, in the stated order: user_id, then the other columns left to right.
    const [row] = await engine.query(`SELECT count(*) AS n, bool_and(user_id >= prev) AS sorted FROM (SELECT user_id, lag(user_id, 1, -1) OVER () AS prev FROM read_parquet('${join(dir, 'a.parquet')}'))`);
    assert.deepEqual(row, { n: ENTITY_ROWS, sorted: true });
  });

  it('materialization keeps the same row per key as the point-in-time join at a later time', async () => {
    const online = SqliteOnlineStore.open({ path: join(dir, 'online.db') });
    try {
      const later = T0 + TIMES * 10 * MIN;
      await materialize(engine, online, parquetView, { now: later });
      const keys = Array.from({ length: KEYS }, (_, k) => ({ user_id: k }));
      const got = await getOnlineFeatures(online, { features: ['users:tier', 'users:score', 'users:n'], entityRows: keys, views: [parquetView], now: later });
      assert.deepEqual(
        got.rows.map((r) => ({ tier: r.tier, score: r.score, n: r.n })),
        keys.map(({ user_id }) => {
          const w = oracle(user_id, later)!;
          return { tier: w.tier, score: w.score, n: w.n };
        }),
      );
    } finally {
      await online.close();
    }
  });
});
