import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatonError } from '../../errors.ts';
import { DuckDBOfflineEngine } from '../../stores/offline/duckdb/engine.ts';
import { SqliteOnlineStore } from '../../stores/online/sqlite/store.ts';
import { entity, featureView, type FeatureView } from '../index.ts';
import { getOnlineFeatures, materialize, OnlineFeatureError, startFeatureServer } from './index.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 10);
const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

let dir: string;
let engine: DuckDBOfflineEngine;
let n = 0;
const origin = entity({ name: 'origin', joinKeys: ['origin'] });
const route = entity({ name: 'route', joinKeys: ['origin', 'dest'] });

function writeCsv(path: string, header: string, rows: (string | number)[][]): string {
  writeFileSync(path, `${[header, ...rows.map((r) => r.join(','))].join('\n')}\n`);
  return path;
}
const csvPath = () => join(dir, `f${n++}.csv`);
function view(path: string, over: Partial<Parameters<typeof featureView>[0]> = {}): FeatureView {
  return featureView({ name: 'origin_stats', entities: [origin], source: { path }, timestampField: 'ts', ttlMs: HOUR, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' }, ...over });
}
const store = () => SqliteOnlineStore.open({ path: join(dir, `online${n++}.db`) });
const code = (c: string, pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BatonError, `expected a BatonError, got ${String(err)}`);
  assert.equal(err.code, c, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-online-'));
  engine = await DuckDBOfflineEngine.open({ threads: 2 });
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('materialize', () => {
  it('copies the latest row per key up to now; the next run copies only what changed', async () => {
    const online = store();
    const path = csvPath();
    const rows: (string | number)[][] = [
      ['SEA', ts(T0), 1, 10],
      ['SEA', ts(T0 + 10 * MIN), 2, 20],
      ['SFO', ts(T0 + 5 * MIN), 3, 30],
      ['SFO', ts(T0 + 2 * HOUR), 99, 99], // after `now`: not yet
    ];
    writeCsv(path, 'origin,ts,avg_delay,flights', rows);
    const v = view(path);
    const first = await materialize(engine, online, v, { now: T0 + HOUR });
    assert.deepEqual({ rows: first.rows, stored: first.stored, from: first.from, to: first.to, full: first.full }, { rows: 2, stored: 2, from: null, to: T0 + 10 * MIN, full: true });
    assert.deepEqual(await online.read('origin_stats', [['SEA'], ['SFO']]), [
      { ts: T0 + 10 * MIN, values: { avg_delay: 2, flights: 20 } },
      { ts: T0 + 5 * MIN, values: { avg_delay: 3, flights: 30 } },
    ]);

    // Nothing new: nothing copied.
    const again = await materialize(engine, online, v, { now: T0 + HOUR });
    assert.equal(again.rows, 0);
    assert.equal(again.from, T0 + 10 * MIN);

    // New rows (one for a new key), plus a late-arriving older SEA row: only the new ones are read.
    rows.push(['SEA', ts(T0 + 30 * MIN), 4, 40], ['JFK', ts(T0 + 40 * MIN), 5, 50], ['SEA', ts(T0 + MIN), -1, -1]);
    writeCsv(path, 'origin,ts,avg_delay,flights', rows);
    const second = await materialize(engine, online, v, { now: T0 + HOUR });
    assert.deepEqual({ rows: second.rows, stored: second.stored, from: second.from, to: second.to, full: second.full }, { rows: 2, stored: 2, from: T0 + 10 * MIN, to: T0 + 40 * MIN, full: false });

    // Later `now`: the SFO row stamped after the first `now` arrives.
    const third = await materialize(engine, online, v, { now: T0 + 3 * HOUR });
    assert.equal(third.rows, 1);
    assert.deepEqual((await online.read('origin_stats', [['SFO']]))[0], { ts: T0 + 2 * HOUR, values: { avg_delay: 99, flights: 99 } });
    await online.close();
  });

  it('late-arriving older rows never overwrite newer values, even on a full run', async () => {
    const online = store();
    const path = writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SEA', ts(T0 + 10 * MIN), 2, 20]]);
    const v = view(path);
    await materialize(engine, online, v, { now: T0 + HOUR });
    // A late row stamped before what is stored, and the source rewritten so it is the latest for SEA.
    writeCsv(path, 'origin,ts,avg_delay,flights', [['SEA', ts(T0), 1, 10]]);
    assert.equal((await materialize(engine, online, v, { now: T0 + HOUR })).rows, 0);
    const full = await materialize(engine, online, v, { now: T0 + HOUR, full: true });
    assert.deepEqual([full.rows, full.stored, full.to], [1, 0, T0 + 10 * MIN]); // watermark never moves back
    assert.deepEqual((await online.read('origin_stats', [['SEA']]))[0], { ts: T0 + 10 * MIN, values: { avg_delay: 2, flights: 20 } });
    await online.close();
  });

  it('a changed definition (new version) re-reads everything and drops the old rows', async () => {
    const online = store();
    const a = writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SEA', ts(T0), 1, 10]]);
    const b = writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SFO', ts(T0 - HOUR), 2, 20]]);
    await materialize(engine, online, view(a), { now: T0 + HOUR });
    const r = await materialize(engine, online, view(b), { now: T0 + HOUR });
    assert.equal(r.full, true);
    assert.deepEqual(await online.read('origin_stats', [['SEA'], ['SFO']]), [null, { ts: T0 - HOUR, values: { avg_delay: 2, flights: 20 } }]);
    await online.close();
  });

  it('SQL sources, composite and numeric keys, dates as ISO strings', async () => {
    const online = store();
    const path = writeCsv(csvPath(), 'origin,dest,ts,delay', [
      ['SEA', 'SFO', ts(T0), 5],
      ['SEA', 'JFK', ts(T0), 7],
      ['SEA', 'SFO', ts(T0 + MIN), 6],
    ]);
    const routes = featureView({
      name: 'route_stats', entities: [route], timestampField: 'ts', ttlMs: null,
      source: { sql: 'SELECT origin, dest, ts, avg(delay) OVER (PARTITION BY origin, dest ORDER BY ts) AS avg_delay, ts::DATE AS day FROM f', inputs: { f: path } },
      features: { avg_delay: 'DOUBLE', day: 'DATE' },
    });
    assert.equal((await materialize(engine, online, routes, { now: T0 + HOUR })).rows, 2);
    const r = await getOnlineFeatures(online, { views: [routes], features: ['route_stats:avg_delay', 'route_stats:day'], entityRows: [{ origin: 'SEA', dest: 'SFO' }, { origin: 'SEA', dest: 'JFK' }] });
    assert.deepEqual(r.rows, [
      { origin: 'SEA', dest: 'SFO', avg_delay: 5.5, day: '2024-01-10T00:00:00.000Z' },
      { origin: 'SEA', dest: 'JFK', avg_delay: 7, day: '2024-01-10T00:00:00.000Z' },
    ]);

    const ids = entity({ name: 'user', joinKeys: ['user_id'] });
    const num = featureView({ name: 'users', entities: [ids], source: { path: writeCsv(csvPath(), 'user_id,ts,score', [[42, ts(T0), 0.5]]) }, timestampField: 'ts', ttlMs: null, features: { score: 'DOUBLE' } });
    await materialize(engine, online, num, { now: T0 });
    const u = await getOnlineFeatures(online, { views: [num], features: ['users:score'], entityRows: [{ user_id: 42 }, { user_id: '42' }, { user_id: 7 }] });
    assert.deepEqual(u.rows.map((x) => x.score), [0.5, 0.5, null]);
    await online.close();
  });

  it('a source without a declared column fails with the column named', async () => {
    const online = store();
    const path = writeCsv(csvPath(), 'origin,ts,avg_delay', [['SEA', ts(T0), 1]]);
    await assert.rejects(materialize(engine, online, view(path)), code('data_invalid', /no feature column "flights"/));
    const bad = writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SEA', 'yesterday', 1, 2]]);
    await assert.rejects(materialize(engine, online, view(bad)), code('data_invalid', /timestamp column "ts" is VARCHAR/));
    await online.close();
  });
});

describe('getOnlineFeatures', () => {
  let online: SqliteOnlineStore;
  let v: FeatureView;
  before(async () => {
    online = store();
    v = view(writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SEA', ts(T0), 1.5, 10], ['SFO', ts(T0), 2.5, 20]]));
    await materialize(engine, online, v, { now: T0 });
  });
  after(() => online.close());

  it('applies the TTL at read time: exactly ttl old is alive, 1 ms more is expired', async () => {
    const get = (now: number) => getOnlineFeatures(online, { views: [v], features: ['origin_stats:avg_delay'], entityRows: [{ origin: 'SEA' }], now });
    assert.deepEqual((await get(T0 + HOUR)).rows, [{ origin: 'SEA', avg_delay: 1.5 }]);
    const expired = await get(T0 + HOUR + 1);
    assert.deepEqual(expired.rows, [{ origin: 'SEA', avg_delay: null }]);
    assert.deepEqual(expired.statuses, [{ avg_delay: 'expired' }]);
    const forever = { ...v, ttlMs: null };
    assert.equal((await getOnlineFeatures(online, { views: [forever], features: ['origin_stats:avg_delay'], entityRows: [{ origin: 'SEA' }], now: T0 + 1e12 })).rows[0]!.avg_delay, 1.5);
  });

  it('unknown keys give null with status not_found; full feature names on request', async () => {
    const r = await getOnlineFeatures(online, { views: [v], features: ['origin_stats:avg_delay', 'origin_stats:flights'], entityRows: [{ origin: 'SFO' }, { origin: 'XXX' }], now: T0, fullFeatureNames: true });
    assert.deepEqual(r.rows, [{ origin: 'SFO', origin_stats__avg_delay: 2.5, origin_stats__flights: 20 }, { origin: 'XXX', origin_stats__avg_delay: null, origin_stats__flights: null }]);
    assert.deepEqual(r.statuses[1], { origin_stats__avg_delay: 'not_found', origin_stats__flights: 'not_found' });
    assert.deepEqual(r.views, [{ name: 'origin_stats', version: v.version }]);
  });

  it('errors: unknown view → not_found; unknown feature, bad ref, missing join key → data_invalid', async () => {
    const get = (features: string[], entityRows: Record<string, unknown>[] = [{ origin: 'SEA' }], views = [v]) => getOnlineFeatures(online, { views, features, entityRows });
    await assert.rejects(get(['nope:avg_delay']), code('not_found', /no feature view named "nope" \(known: origin_stats\)/));
    await assert.rejects(get(['origin_stats:nope']), code('data_invalid', /has no feature "nope" \(it has: avg_delay, flights\)/));
    await assert.rejects(get(['avg_delay']), code('data_invalid', /not of the form "view:feature"/));
    await assert.rejects(get(['origin_stats:avg_delay'], [{ dest: 'SEA' }]), code('data_invalid', /Entity row 0 has no join key "origin"/));
    await assert.rejects(get(['origin_stats:avg_delay'], [{ origin: null }]), code('data_invalid', /join key "origin" is null/));
    await assert.rejects(get(['origin_stats:avg_delay'], []), code('data_invalid', /entityRows is empty/));
    const other = view(csvPath(), { name: 'never_materialized' });
    await assert.rejects(get(['never_materialized:avg_delay'], [{ origin: 'SEA' }], [other]), code('not_found', /has no data for it. Run materialize/));
    const changed = view(csvPath(), { ttlMs: 2 * HOUR });
    await assert.rejects(get(['origin_stats:avg_delay'], [{ origin: 'SEA' }], [changed]), (err: unknown) => err instanceof OnlineFeatureError && err.reason === 'not_materialized' && /holds version/.test(err.message));
  });
});

describe('HTTP: POST /features/online', () => {
  let online: SqliteOnlineStore;
  let server: { url: string; close(): Promise<void> };
  before(async () => {
    online = store();
    const v = view(writeCsv(csvPath(), 'origin,ts,avg_delay,flights', [['SEA', ts(Date.now() - MIN), 1.5, 10]]));
    await materialize(engine, online, v);
    server = await startFeatureServer({ port: 0, online, views: [v] });
  });
  after(async () => {
    await server.close();
    await online.close();
  });
  const post = (body: string, path = '/features/online', method = 'POST') =>
    fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body }) });

  it('answers values as JSON', async () => {
    const res = await post(JSON.stringify({ features: ['origin_stats:avg_delay', 'origin_stats:flights'], entities: [{ origin: 'SEA' }, { origin: 'BOS' }] }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { rows: unknown[]; statuses: unknown[] };
    assert.deepEqual(body.rows, [{ origin: 'SEA', avg_delay: 1.5, flights: 10 }, { origin: 'BOS', avg_delay: null, flights: null }]);
    assert.deepEqual(body.statuses, [{ avg_delay: 'present', flights: 'present' }, { avg_delay: 'not_found', flights: 'not_found' }]);
  });

  it('bad JSON → 400 with a clear message; bad shapes → 400; unknown view → 404; other routes/methods', async () => {
    const bad = await post('{"features": [');
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'data_invalid');
    assert.match(err.error.message, /not valid JSON .*Send \{"features"/);
    assert.equal((await post(JSON.stringify({ features: 'x', entities: [] }))).status, 400);
    assert.equal((await post(JSON.stringify([1]))).status, 400);
    const missingKey = await post(JSON.stringify({ features: ['origin_stats:avg_delay'], entities: [{ dest: 'SEA' }] }));
    assert.equal(missingKey.status, 400);
    assert.match(((await missingKey.json()) as { error: { message: string } }).error.message, /no join key "origin"/);
    const unknown = await post(JSON.stringify({ features: ['nope:x'], entities: [{ origin: 'SEA' }] }));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'not_found');
    assert.equal((await post('', '/elsewhere')).status, 404);
    assert.equal((await post('', '/features/online', 'GET')).status, 405);
  });
});
