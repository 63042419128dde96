// Feature views over a TypeScript transform: the same point-in-time, TTL and incremental rules as a file source
// (checked against a CSV of the same rows), batches from async iterables, and bad rows named with the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../ports/offline.ts';
import { DuckDBOfflineEngine } from '../stores/offline/duckdb/engine.ts';
import { SqliteOnlineStore } from '../stores/online/sqlite/store.ts';
import { entity, FeatureError, featureView, getHistoricalFeatures, type EntityRowValue, type FeatureView, type FeatureViewInput, type TransformContext, type TransformFn } from './index.ts';
import { getOnlineFeatures, materialize } from './online/index.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 10);
const at = (ms: number) => new Date(ms);

let dir: string;
let engine: DuckDBOfflineEngine;
const origin = entity({ name: 'origin', joinKeys: ['origin'] });
const user = entity({ name: 'user', joinKeys: ['user_id'] });

function tsView(transform: TransformFn, over: Partial<FeatureViewInput> = {}): FeatureView {
  return featureView({ name: 'origin_stats', entities: [origin], source: { transform }, timestampField: 'ts', ttlMs: HOUR, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' }, ...over });
}
async function pit(views: FeatureView[], entities: Record<string, EntityRowValue>[]): Promise<Row[]> {
  const r = await getHistoricalFeatures(engine, { entities, features: views });
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
  dir = mkdtempSync(join(tmpdir(), 'baton-transform-test-'));
  engine = await DuckDBOfflineEngine.open({ threads: 2 });
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('transform sources: getHistoricalFeatures', () => {
  it('never returns a value stamped after the event, and applies the TTL with inclusive edges', async () => {
    const v = tsView(() => [
      { origin: 'SFO', ts: at(T0 - 10 * MIN), avg_delay: 1, flights: 10 },
      { origin: 'SFO', ts: at(T0), avg_delay: 2, flights: 20 },
      { origin: 'SFO', ts: at(T0 + 1), avg_delay: 3, flights: 30 }, // 1 ms after the second event: the leak
      { origin: 'SEA', ts: '2024-01-09 22:00:00', avg_delay: 7, flights: null }, // ISO without a zone: UTC; T0 - 2h
    ]);
    const rows = await pit([v], [
      { origin: 'SFO', event_timestamp: at(T0 - 1) },
      { origin: 'SFO', event_timestamp: at(T0) },
      { origin: 'SFO', event_timestamp: at(T0 - 11 * MIN) },
      { origin: 'SEA', event_timestamp: at(T0 - HOUR) }, // the SEA value is exactly ttl old: alive
      { origin: 'SEA', event_timestamp: at(T0 - HOUR + 1) }, // 1 ms more: expired
      { origin: 'BOS', event_timestamp: at(T0) },
    ]);
    assert.deepEqual(rows.map((r) => r.avg_delay), [1, 2, null, 7, null, null]);
    assert.deepEqual(rows.map((r) => r.flights), [10, 20, null, null, null, null]);
  });

  it('agrees with a CSV source holding the same rows, on random data (numeric keys, every feature type)', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      user_id: Math.floor(rand() * 6),
      ts: at(T0 + Math.floor(rand() * 240) * MIN),
      score: i % 17 === 0 ? null : Math.round(rand() * 1000) / 10,
      n: Math.floor(rand() * 100),
      tier: ['gold', 'silver', 'bronze'][i % 3]!,
      active: i % 2 === 0,
      seen: at(T0 + i * HOUR),
    }));
    const features = { score: 'DOUBLE', n: 'INTEGER', tier: 'VARCHAR', active: 'BOOLEAN', seen: 'TIMESTAMP' } as const;
    const csv = join(dir, 'users.csv');
    const cell = (v: unknown) => (v === null ? '' : v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : String(v));
    writeFileSync(csv, `user_id,ts,score,n,tier,active,seen\n${rows.map((r) => Object.values(r).map(cell).join(',')).join('\n')}\n`);
    const common = { name: 'users', entities: [user], timestampField: 'ts', ttlMs: 90 * MIN, features };
    const fromCsv = featureView({ ...common, source: { path: csv } });
    // Batches from an async generator, as a paged source would give them.
    const fromTs = featureView({ ...common, source: { async *transform() { for (let i = 0; i < rows.length; i += 64) yield rows.slice(i, i + 64); } } });
    const entities = Array.from({ length: 200 }, () => ({ user_id: Math.floor(rand() * 7), event_timestamp: at(T0 + Math.floor(rand() * 300) * MIN) }));
    const expected = await pit([fromCsv], entities);
    assert.ok(expected.filter((r) => r.score !== null).length > 50, 'the oracle finds values');
    assert.ok(expected.filter((r) => r.tier === null).length > 10, 'and expired or missing ones');
    assert.deepEqual(await pit([fromTs], entities), expected);
  });

  it('takes an async function, a sync generator of batches, and an empty result', async () => {
    const row = { origin: 'SEA', ts: T0, avg_delay: 1.5, flights: 3 }; // epoch milliseconds
    const asyncFn = tsView(async () => [row]);
    const generator = tsView(function* () {
      yield [];
      yield [row];
    });
    const empty = tsView(() => []);
    const event = [{ origin: 'SEA', event_timestamp: at(T0 + MIN) }];
    assert.deepEqual((await pit([asyncFn], event)).map((r) => r.avg_delay), [1.5]);
    assert.deepEqual((await pit([generator], event)).map((r) => r.flights), [3]);
    assert.deepEqual((await pit([empty], event)).map((r) => r.avg_delay), [null]);
  });

  it('keeps strings exact: quotes, commas, newlines, and an empty string apart from null', async () => {
    const tricky = ['say "hi", then\nleave', '', 'ünïcödé ✈', ' padded '];
    const v = tsView(() => [...tricky.map((note, i) => ({ origin: `K,"${i}"\n`, ts: T0, note })), { origin: 'null', ts: T0, note: null }], { features: { note: 'VARCHAR' } });
    const rows = await pit([v], [...tricky.map((_, i) => ({ origin: `K,"${i}"\n`, event_timestamp: at(T0) })), { origin: 'null', event_timestamp: at(T0) }]);
    assert.deepEqual(rows.map((r) => r.note), [...tricky, null]);
  });

  it('removes its temporary files after the call, also when a row is bad', async () => {
    const own = mkdtempSync(join(dir, 'tmp-'));
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = own; // os.tmpdir() reads it on each call; this test file runs in its own process
    try {
      await pit([tsView(() => [{ origin: 'SEA', ts: T0, avg_delay: 1, flights: 1 }])], [{ origin: 'SEA', event_timestamp: at(T0) }]);
      await assert.rejects(pit([tsView(() => [{ origin: 'SEA', ts: T0, avg_delay: 'x', flights: 1 }])], [{ origin: 'SEA', event_timestamp: at(T0) }]));
      assert.deepEqual(readdirSync(own), []);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });
});

describe('transform sources: bad rows', () => {
  const event = [{ origin: 'SEA', event_timestamp: at(T0) }];
  const bad = (rows: unknown, pattern: RegExp, reason = 'invalid_rows') => rejectsWith(pit([tsView(() => rows as never)], event), reason, pattern);
  const ok = { origin: 'SEA', ts: at(T0), avg_delay: 1, flights: 1 };

  it('names the view, the row, the column and the fix', async () => {
    await bad([ok, { ts: at(T0), avg_delay: 1, flights: 1 }], /Feature view "origin_stats": transform row 1 has no join key "origin" \(the row has: ts, avg_delay, flights\)\. Give every row its entity key "origin"\./);
    await bad([ok, ok, { ...ok, origin: null }], /transform row 2 has join key "origin" = null\. .*drop rows without one/);
    await bad([{ origin: 'SEA', avg_delay: 1, flights: 1 }], /transform row 0 has no timestamp "ts" .*Give every row its event time in "ts" \(a Date, an ISO string or epoch milliseconds\)/);
    await bad([{ ...ok, ts: 'yesterday' }], /transform row 0 has timestamp "ts" = "yesterday" \(a string\), not a time\. Use a Date, an ISO string like 2024-01-31T12:00:00Z, or epoch milliseconds\./);
    await bad([{ ...ok, ts: null }], /transform row 0 has timestamp "ts" = null, not a time/);
    await bad([ok, { ...ok, flights: 'ten' }], /transform row 1 has feature "flights" = "ten" \(a string\), but it is declared BIGINT\. Return a whole number \(or null\), or declare the feature DOUBLE for fractions\./);
    await bad([{ ...ok, flights: 2.5 }], /row 0 has feature "flights" = 2\.5 \(a number\), but it is declared BIGINT/);
    await bad([{ ...ok, avg_delay: Number.NaN }], /row 0 has feature "avg_delay" = NaN \(a number\), but it is declared DOUBLE\. Return a finite number or null/);
    await bad([{ origin: 'SEA', ts: at(T0), avg_dealy: 1, flights: 1 }], /row 0 has no feature "avg_delay" \(the row has: origin, ts, avg_dealy, flights\)\. Set "avg_delay" in every row \(null for a missing value\), or check its spelling\./);
    await bad([ok, ok, ok, { ...ok, origin: 7 }], /row 3 has join key "origin" = 7 \(a number\), but row 0's is a string\. Give "origin" one type in every row/);
    await bad([ok, 'SEA,2024-01-10,1,1'], /transform row 1 is "SEA,2024-01-10,1,1" \(a string\), not an object\. Return rows like \{ origin: …, ts: new Date\(…\), avg_delay: … \}/);
    await bad({ rows: [ok] }, /its transform returned a object\. Return an array of row objects, or an \(async\) iterable of row arrays/);
    await bad(new Set([ok]), /batch 0 of its transform is a object, not an array of rows/);
    await bad([{ ...ok, origin: 'SE\0A' }], /row 0 has join key "origin" = "SE\\u0000A", which holds a NUL character/);
  });

  it('stops a generator it no longer reads, so its finally blocks run', async () => {
    let closed = false;
    const v = tsView(async function* () {
      try {
        yield [ok];
        yield [{ ...ok, flights: 'many' }];
        yield [ok];
      } finally {
        closed = true;
      }
    });
    await rejectsWith(pit([v], event), 'invalid_rows', /transform row 1 has feature "flights" = "many"/);
    assert.equal(closed, true);
  });

  it('checks integer ranges and wraps a transform that throws', async () => {
    const small = tsView(() => [{ origin: 'SEA', ts: T0, n: 40_000 }], { name: 'small', features: { n: 'SMALLINT' } });
    await rejectsWith(pit([small], event), 'invalid_rows', /Feature view "small": transform row 0 has feature "n" = 40000 \(a number\), but it is declared SMALLINT\. SMALLINT holds -32768 … 32767: declare a wider integer type/);
    const throws = tsView(() => {
      throw new Error('the scores API answered 503');
    });
    await rejectsWith(pit([throws], event), 'transform_failed', /Feature view "origin_stats": its transform threw: the scores API answered 503\. Fix the transform function/);
    const failsLater = tsView(async function* () {
      yield [ok];
      throw new Error('page 2 timed out');
    });
    await rejectsWith(pit([failsLater], event), 'transform_failed', /its transform threw: page 2 timed out/);
  });
});

describe('transform sources: materialize', () => {
  it('copies incrementally: the transform is told the range, and later rows arrive in the next run', async () => {
    const online = SqliteOnlineStore.open({ path: join(dir, 'online.db') });
    const rows = [
      { origin: 'SEA', ts: at(T0), avg_delay: 1, flights: 10 },
      { origin: 'SFO', ts: at(T0 + 5 * MIN), avg_delay: 3, flights: 30 },
      { origin: 'SFO', ts: at(T0 + 2 * HOUR), avg_delay: 99, flights: 99 }, // after `now`: not yet
    ];
    const asked: TransformContext[] = [];
    const v = tsView((ctx) => {
      asked.push(ctx);
      return rows;
    });
    const first = await materialize(engine, online, v, { now: T0 + HOUR });
    assert.deepEqual([first.full, first.rows, first.to], [true, 2, T0 + 5 * MIN]);
    rows.push({ origin: 'SEA', ts: at(T0 + 30 * MIN), avg_delay: 2, flights: 20 });
    rows.push({ origin: 'BOS', ts: at(T0 + MIN), avg_delay: 5, flights: 50 }); // late: at or before the watermark
    const second = await materialize(engine, online, v, { now: T0 + HOUR });
    assert.deepEqual([second.full, second.rows, second.from, second.to], [false, 1, T0 + 5 * MIN, T0 + 30 * MIN]);
    assert.deepEqual(asked, [
      { view: 'origin_stats', after: null, until: at(T0 + HOUR) },
      { view: 'origin_stats', after: at(T0 + 5 * MIN), until: at(T0 + HOUR) },
    ]);
    const get = () => getOnlineFeatures(online, { views: [v], features: ['origin_stats:avg_delay'], entityRows: [{ origin: 'SEA' }, { origin: 'SFO' }, { origin: 'BOS' }], now: T0 + HOUR });
    assert.deepEqual((await get()).rows.map((r) => r.avg_delay), [2, 3, null]);
    const full = await materialize(engine, online, v, { now: T0 + HOUR, full: true });
    assert.equal(full.rows, 3);
    assert.deepEqual((await get()).rows.map((r) => r.avg_delay), [2, 3, 5]);
    await online.close();
  });

  it('refuses bad rows before writing anything', async () => {
    const online = SqliteOnlineStore.open({ path: join(dir, 'online-bad.db') });
    const v = tsView(() => [{ origin: 'SEA', ts: at(T0), avg_delay: 1, flights: 1 }, { origin: 'SEA', avg_delay: 1, flights: 1 }]);
    await rejectsWith(materialize(engine, online, v, { now: T0 + HOUR }), 'invalid_rows', /transform row 1 has no timestamp "ts"/);
    assert.equal(await online.watermark('origin_stats'), null);
    await online.close();
  });
});
