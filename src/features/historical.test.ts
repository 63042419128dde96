import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../ports/offline.ts';
import { DuckDBOfflineEngine } from '../stores/offline/duckdb/engine.ts';
import { entity, FeatureError, featureView, getHistoricalFeatures, type EntityRowValue, type FeatureView } from './index.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 10);
const at = (ms: number) => new Date(ms);
/** A TIMESTAMP value for a CSV cell (UTC, millisecond precision). */
const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

let dir: string;
let engine: DuckDBOfflineEngine;
let n = 0;
function csv(header: string, rows: (string | number)[][]): string {
  const path = join(dir, `f${n++}.csv`);
  writeFileSync(path, `${[header, ...rows.map((r) => r.join(','))].join('\n')}\n`);
  return path;
}

const origin = entity({ name: 'origin', joinKeys: ['origin'] });
const route = entity({ name: 'route', joinKeys: ['origin', 'dest'] });
function view(path: string, over: Partial<Parameters<typeof featureView>[0]> = {}): FeatureView {
  return featureView({ name: 'origin_stats', entities: [origin], source: { path }, timestampField: 'ts', ttlMs: HOUR, features: { avg_delay: 'DOUBLE' }, ...over });
}
const values = (rows: Row[], column: string) => rows.map((r) => r[column]);
async function pit(v: FeatureView | FeatureView[], entities: Record<string, EntityRowValue>[], features?: string[]) {
  const views = Array.isArray(v) ? v : [v];
  const r = await getHistoricalFeatures(engine, { entities, features: features ?? views, views });
  assert.equal(r.kind, 'rows');
  return r.kind === 'rows' ? r.rows : [];
}
const rejectsWith = (promise: Promise<unknown>, reason: string, pattern: RegExp) =>
  assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FeatureError, `expected a FeatureError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, pattern);
    return true;
  });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-features-'));
  engine = await DuckDBOfflineEngine.open({ threads: 2 });
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('getHistoricalFeatures: point-in-time correctness', () => {
  it('never returns a value stamped after the event; a value stamped exactly at the event is visible', async () => {
    const path = csv('origin,ts,avg_delay', [
      ['SFO', ts(T0 - 10 * MIN), 1],
      ['SFO', ts(T0), 2],
      ['SFO', ts(T0 + 1), 3], // 1 ms after the event: the leak
      ['SFO', ts(T0 + HOUR), 4],
    ]);
    const rows = await pit(view(path), [
      { origin: 'SFO', event_timestamp: at(T0 - 1) },
      { origin: 'SFO', event_timestamp: at(T0) },
      { origin: 'SFO', event_timestamp: at(T0 + 1) },
      { origin: 'SFO', event_timestamp: at(T0 - 11 * MIN) },
    ]);
    assert.deepEqual(values(rows, 'avg_delay'), [1, 2, 3, null]);
    assert.deepEqual(values(rows, 'event_timestamp'), [at(T0 - 1), at(T0), at(T0 + 1), at(T0 - 11 * MIN)], 'entity rows keep their order');
  });

  it('agrees with a brute-force oracle on random data (no value from the future, none older than the TTL)', async () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['A', 'B', 'C', 'D'];
    const feats: [string, number, number][] = [];
    const used = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const k = keys[Math.floor(rand() * keys.length)]!;
      const t = T0 + Math.floor(rand() * 48 * 60) * MIN;
      if (used.has(`${k}${t}`)) continue; // ties are ambiguous by definition
      used.add(`${k}${t}`);
      feats.push([k, t, i]);
    }
    const v = view(csv('origin,ts,avg_delay', feats.map(([k, t, x]) => [k, ts(t), x])), { ttlMs: 90 * MIN });
    const events = Array.from({ length: 300 }, () => ({ origin: [...keys, 'Z'][Math.floor(rand() * 5)]!, event_timestamp: at(T0 - 2 * HOUR + Math.floor(rand() * 52 * 60) * MIN) }));
    const rows = await pit(v, events);
    const expected = events.map((e) => {
      const ev = e.event_timestamp.getTime();
      const best = feats.filter(([k, t]) => k === e.origin && t <= ev && t >= ev - 90 * MIN).sort((a, b) => b[1] - a[1])[0];
      return best ? best[2] : null;
    });
    assert.deepEqual(values(rows, 'avg_delay'), expected);
    assert.ok(expected.filter((x) => x === null).length > 10 && expected.filter((x) => x !== null).length > 100, 'the data exercises both outcomes');
  });

  it('applies the TTL inclusively: exactly ttl old is alive, 1 ms older is expired (Feast semantics)', async () => {
    const path = csv('origin,ts,avg_delay', [['SFO', ts(T0), 7]]);
    const events = [HOUR - 1, HOUR, HOUR + 1, 0].map((d) => ({ origin: 'SFO', event_timestamp: at(T0 + d) }));
    assert.deepEqual(values(await pit(view(path), events), 'avg_delay'), [7, 7, null, 7]);
    // The nearest earlier row decides: an expired latest value is not replaced by anything older.
    assert.deepEqual(values(await pit(view(path, { ttlMs: null }), [{ origin: 'SFO', event_timestamp: at(T0 + 1000 * HOUR) }]), 'avg_delay'), [7]);
  });

  it('joins several views with different entities, and composite join keys', async () => {
    const routes = featureView({
      name: 'route_stats',
      entities: [route],
      source: { path: csv('origin,dest,ts,route_delay,n', [['SFO', 'LAX', ts(T0), 10, 5], ['SFO', 'JFK', ts(T0), 20, 6], ['LAX', 'SFO', ts(T0), 30, 7]]) },
      timestampField: 'ts',
      ttlMs: 24 * HOUR,
      features: { route_delay: 'DOUBLE', n: 'INTEGER' },
    });
    const origins = view(csv('origin,ts,avg_delay', [['SFO', ts(T0 - MIN), 1.5], ['LAX', ts(T0 + MIN), 2.5]]));
    const rows = await pit([routes, origins], [
      { origin: 'SFO', dest: 'JFK', event_timestamp: at(T0 + 30 * MIN), label: 1 },
      { origin: 'LAX', dest: 'SFO', event_timestamp: at(T0), label: 0 },
      { origin: 'SFO', dest: 'SEA', event_timestamp: at(T0), label: 1 },
    ], ['route_stats:route_delay', 'origin_stats:avg_delay', 'route_stats:n']);
    assert.deepEqual(rows, [
      { origin: 'SFO', dest: 'JFK', event_timestamp: at(T0 + 30 * MIN), label: 1, route_delay: 20, n: 6, avg_delay: 1.5 },
      { origin: 'LAX', dest: 'SFO', event_timestamp: at(T0), label: 0, route_delay: 30, n: 7, avg_delay: null },
      { origin: 'SFO', dest: 'SEA', event_timestamp: at(T0), label: 1, route_delay: null, n: null, avg_delay: 1.5 },
    ]);
  });

  it('gives nulls to entities with no feature rows, and records the view versions used', async () => {
    const v = view(csv('origin,ts,avg_delay', [['SFO', ts(T0), 1]]));
    const r = await getHistoricalFeatures(engine, { entities: [{ origin: 'ORD', event_timestamp: '2024-01-10T05:00:00' }, { origin: null, event_timestamp: at(T0) }], features: ['origin_stats:avg_delay'], views: [v] });
    assert.equal(r.kind, 'rows');
    assert.deepEqual(r.kind === 'rows' && values(r.rows, 'avg_delay'), [null, null]);
    assert.deepEqual(r.views, [{ name: 'origin_stats', version: v.version }]);
    assert.deepEqual(r.columns, ['origin', 'event_timestamp', 'avg_delay']);
  });

  it('reads entity rows from a file, features from a SQL source, and writes the training set to Parquet', async () => {
    const flights = csv('origin,dep,delay', [['SFO', ts(T0), 10], ['SFO', ts(T0 + HOUR), 20], ['SFO', ts(T0 + 2 * HOUR), 60]]);
    const running = featureView({
      name: 'running',
      entities: [origin],
      source: { sql: 'SELECT origin, dep AS ts, avg(delay) OVER (PARTITION BY origin ORDER BY dep) AS avg_delay FROM flights', inputs: { flights } },
      timestampField: 'ts',
      ttlMs: 3 * HOUR,
      features: { avg_delay: 'DOUBLE' },
    });
    const entities = csv('origin,event_timestamp,label', [['SFO', ts(T0 + HOUR + MIN), 1], ['SFO', ts(T0 - 1), 0]]);
    const out = join(dir, 'train.parquet');
    const r = await getHistoricalFeatures(engine, { entities, features: ['running:avg_delay'], views: [running], output: { path: out } });
    assert.equal(r.kind, 'parquet');
    assert.equal(r.rowCount, 2);
    const back = await engine.query(`SELECT label, avg_delay FROM ${await engine.relation(out)} ORDER BY label`);
    assert.deepEqual(back, [{ label: 0, avg_delay: null }, { label: 1, avg_delay: 15 }]);
  });

  it('reads DATE event columns as midnight UTC and keeps the output columns as given', async () => {
    const v = view(csv('origin,ts,avg_delay', [['SFO', ts(T0 - 1), 1], ['SFO', ts(T0), 2]]));
    const entityFile = csv('origin,event_timestamp', [['SFO', '2024-01-10'], ['SFO', '2024-01-09']]);
    const r = await getHistoricalFeatures(engine, { entities: entityFile, features: [v] });
    assert.deepEqual(r.columns, ['origin', 'event_timestamp', 'avg_delay']);
    const rows = r.kind === 'rows' ? r.rows : [];
    assert.deepEqual(rows.map((x) => Object.keys(x)), [r.columns, r.columns]);
    assert.deepEqual(values(rows, 'avg_delay').sort(), [2, null]);
  });

  it('names output columns view__feature on request, and refuses silent clashes', async () => {
    const a = view(csv('origin,ts,avg_delay', [['SFO', ts(T0), 1]]));
    const b = view(csv('origin,ts,avg_delay', [['SFO', ts(T0), 2]]), { name: 'other_stats' });
    const entities = [{ origin: 'SFO', event_timestamp: at(T0) }];
    await rejectsWith(getHistoricalFeatures(engine, { entities, features: [a, b] }), 'name_collision', /"avg_delay" \(feature view "other_stats"\) clashes with feature "avg_delay" of feature view "origin_stats"\. Pass fullFeatureNames: true/);
    const r = await getHistoricalFeatures(engine, { entities, features: [a, b], fullFeatureNames: true });
    assert.deepEqual(r.kind === 'rows' && r.rows, [{ origin: 'SFO', event_timestamp: at(T0), origin_stats__avg_delay: 1, other_stats__avg_delay: 2 }]);
  });
});

describe('getHistoricalFeatures: bad inputs', () => {
  const good = () => view(csv('origin,ts,avg_delay,name', [['SFO', ts(T0), 1, 'x']]));
  const entities = [{ origin: 'SFO', event_timestamp: at(T0) }];

  it('names an unknown view or feature', async () => {
    const v = good();
    await rejectsWith(getHistoricalFeatures(engine, { entities, features: ['origin_stats:p99'], views: [v] }), 'unknown_feature', /"origin_stats:p99": feature view "origin_stats" has no feature "p99" \(it has: avg_delay\)/);
    await rejectsWith(getHistoricalFeatures(engine, { entities, features: ['route_stats:avg_delay'], views: [v] }), 'unknown_view', /no feature view named "route_stats" \(known: origin_stats\)/);
    await rejectsWith(getHistoricalFeatures(engine, { entities, features: ['avg_delay'], views: [v] }), 'invalid_request', /"avg_delay" is not of the form "view:feature"/);
    await rejectsWith(getHistoricalFeatures(engine, { entities, features: [], views: [v] }), 'invalid_request', /features: request at least one feature/);
  });

  it('names a join key or timestamp column missing from the entity rows or the source', async () => {
    const v = good();
    await rejectsWith(pit(v, [{ airport: 'SFO', event_timestamp: at(T0) }]), 'unknown_column', /entity rows have no join key "origin", needed by feature view "origin_stats" \(entity columns: airport, event_timestamp\)/);
    await rejectsWith(pit(v, [{ origin: 'SFO', ts: at(T0) }]), 'unknown_column', /no event timestamp column "event_timestamp" \(columns: origin, ts\)\. Add it, or pass eventTimestamp/);
    const r = await getHistoricalFeatures(engine, { entities: [{ origin: 'SFO', ts: at(T0) }], eventTimestamp: 'ts', features: [v] });
    assert.deepEqual(r.kind === 'rows' && values(r.rows, 'avg_delay'), [1]);
    await rejectsWith(pit(view(csv('origin,ts,avg_delay', [['SFO', ts(T0), 1]]), { timestampField: 'updated_at' }), entities), 'unknown_column', /"origin_stats": its source has no timestamp column "updated_at" \(columns: origin, ts, avg_delay\)/);
    await rejectsWith(pit(view(csv('airport,ts,avg_delay', [['SFO', ts(T0), 1]])), entities), 'unknown_column', /"origin_stats": its source has no join key column "origin"/);
    await rejectsWith(pit(view(csv('origin,ts,delay', [['SFO', ts(T0), 1]])), entities), 'unknown_column', /"origin_stats": its source has no column for feature "avg_delay"/);
  });

  it('names wrong types: feature column, join key, timestamps, entity values', async () => {
    const strFeature = view(csv('origin,ts,avg_delay', [['SFO', ts(T0), 'high']]));
    await rejectsWith(pit(strFeature, entities), 'incompatible_type', /"origin_stats": feature "avg_delay" is declared DOUBLE but its column is VARCHAR/);
    await rejectsWith(pit(good(), [{ origin: 17, event_timestamp: at(T0) }]), 'incompatible_type', /Join key "origin" is BIGINT in the entity rows but VARCHAR in feature view "origin_stats"'s source/);
    await rejectsWith(pit(view(csv('origin,ts,avg_delay', [['SFO', 'soon', 1]])), entities), 'incompatible_type', /timestamp column "ts" is VARCHAR, not a timestamp or date/);
    await rejectsWith(pit(good(), [{ origin: 'SFO', event_timestamp: 1704844800000 }]), 'incompatible_type', /event timestamp column "event_timestamp" holds number values\. Give each row a Date or an ISO string/);
    await rejectsWith(pit(good(), [{ origin: 'SFO', event_timestamp: 'yesterday' }]), 'invalid_request', /Entity row 0: event timestamp "event_timestamp" is "yesterday", not a date/);
    await rejectsWith(pit(good(), [{ origin: 'SFO', event_timestamp: at(T0) }, { origin: 1, event_timestamp: at(T0) }]), 'incompatible_type', /column "origin" mixes string and number values/);
    await rejectsWith(pit(good(), [{ origin: 'SFO', event_timestamp: at(T0) }, { event_timestamp: at(T0) }]), 'invalid_request', /Entity row 1 has no "origin" unlike row 0/);
    await rejectsWith(pit(good(), []), 'invalid_request', /Entity rows are empty/);
    const entityFile = csv('origin,event_timestamp', [['SFO', 12]]);
    await rejectsWith(getHistoricalFeatures(engine, { entities: entityFile, features: [good()] }), 'incompatible_type', /event timestamp "event_timestamp" is BIGINT, not a timestamp or date/);
  });

  it('passes file errors through with the file named', async () => {
    await assert.rejects(getHistoricalFeatures(engine, { entities, features: [view(join(dir, 'nope.csv'))] }), /nope\.csv" does not exist/);
  });
});
