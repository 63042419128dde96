import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { OfflineError } from '../../ports/offline.ts';
import { DuckDBOfflineEngine } from '../../stores/offline/duckdb/engine.ts';
import { profileSource, ProfileError, type ColumnProfile, type DatasetProfile } from './index.ts';

const SEATTLE = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url));
const DAY = 86_400_000;

/**
 * 100 rows. id 1..100; amount = id * 1.5, null when id % 10 == 0 (10 nulls); cat: 'a' for even ids (50), 'b' for
 * ids ≡ 1 mod 10 (10), else 'c' (40); flag = id % 4 == 0 (25 true); day = 2024-01-01 + id days; blank: always empty.
 */
function known(): string {
  const lines = ['id,amount,cat,flag,day,blank'];
  for (let id = 1; id <= 100; id++) {
    const cat = id % 2 === 0 ? 'a' : id % 10 === 1 ? 'b' : 'c';
    const day = new Date(Date.UTC(2024, 0, 1) + id * DAY).toISOString().slice(0, 10);
    lines.push([id, id % 10 === 0 ? '' : id * 1.5, cat, id % 4 === 0, day, ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const col = (p: DatasetProfile, name: string): ColumnProfile => {
  const c = p.columns.find((x) => x.name === name);
  assert.ok(c, `no column ${name}`);
  return c;
};
const histTotal = (c: ColumnProfile): number => {
  const h = c.numeric!.histogram;
  return h.counts.reduce((s, x) => s + x, 0) + h.below + h.above;
};
/** Reference equal-width binning in plain JS. */
const binCounts = (values: number[], lo: number, hi: number, bins: number): number[] => {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(Math.floor((v - lo) / ((hi - lo) / bins)), bins - 1)]!++;
  return counts;
};

describe('profileSource', () => {
  let dir: string;
  let engine: DuckDBOfflineEngine;
  let csv: string;
  let parquet: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-profile-'));
    engine = await DuckDBOfflineEngine.open({ threads: 2 });
    csv = join(dir, 'known.csv');
    parquet = join(dir, 'typed.parquet');
    writeFileSync(csv, known());
    // Typed columns CSV cannot express: an all-null INTEGER, a DOUBLE with NaN and +Infinity, a TIMESTAMP.
    await engine.query(
      `COPY (SELECT id, NULL::INTEGER AS nothing, CASE WHEN id = 1 THEN 'nan'::DOUBLE WHEN id = 2 THEN 'inf'::DOUBLE ELSE id / 4 END AS ratio, ` +
        `TIMESTAMP '2024-03-01 00:00:00' + to_hours(id) AS ts FROM ${await engine.relation(csv)}) TO '${parquet}' (FORMAT parquet)`,
    );
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('profiles known CSV values exactly', async () => {
    const p = await profileSource(engine, csv);
    assert.equal(p.version, 1);
    assert.equal(p.rows, 100);
    assert.deepEqual(
      p.columns.map((c) => [c.name, c.kind]),
      [
        ['id', 'integer'],
        ['amount', 'float'],
        ['cat', 'string'],
        ['flag', 'boolean'],
        ['day', 'date'],
        ['blank', 'string'],
      ],
    );

    const id = col(p, 'id');
    assert.deepEqual([id.count, id.nulls, id.nullShare, id.distinct], [100, 0, 0, 100]);
    assert.deepEqual([id.numeric!.min, id.numeric!.max, id.numeric!.mean, id.numeric!.zeros], [1, 100, 50.5, 0]);
    assert.ok(Math.abs(id.numeric!.std! - Math.sqrt((100 * 100 - 1) / 12)) < 1e-9);
    assert.equal(id.numeric!.quantiles.p50, 50.5);
    assert.ok(Math.abs(id.numeric!.quantiles.p1! - 1.99) < 1e-9);
    assert.ok(Math.abs(id.numeric!.quantiles.p99! - 99.01) < 1e-9);
    const h = id.numeric!.histogram;
    assert.equal(h.edges.length, 21);
    assert.deepEqual([h.edges[0], h.edges[20]], [1, 100]);
    assert.deepEqual(h.counts, binCounts(Array.from({ length: 100 }, (_, i) => i + 1), 1, 100, 20));
    assert.equal(histTotal(id), 100);

    const amount = col(p, 'amount');
    assert.deepEqual([amount.count, amount.nulls, amount.nullShare], [90, 10, 0.1]);
    assert.deepEqual([amount.numeric!.min, amount.numeric!.max], [1.5, 148.5]);
    assert.equal(histTotal(amount), 90, 'histogram counts sum to the non-null rows');

    const cat = col(p, 'cat');
    assert.equal(cat.distinct, 3);
    assert.deepEqual(cat.top, {
      values: [
        { value: 'a', count: 50 },
        { value: 'c', count: 40 },
        { value: 'b', count: 10 },
      ],
      other: 0,
    });
    assert.deepEqual(cat.strings, { minLength: 1, maxLength: 1, meanLength: 1, empty: 0 });
    assert.deepEqual(col(p, 'flag').top, {
      values: [
        { value: 'false', count: 75 },
        { value: 'true', count: 25 },
      ],
      other: 0,
    });
    assert.deepEqual(col(p, 'day').temporal, { min: '2024-01-02', max: '2024-04-10' });

    const blank = col(p, 'blank');
    assert.deepEqual([blank.count, blank.nulls, blank.nullShare, blank.distinct], [0, 100, 1, 0]);
    assert.deepEqual(blank.top, { values: [], other: 0 });

    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'the profile is plain JSON');
  });

  it('keeps the top k and counts the rest as other', async () => {
    const p = await profileSource(engine, csv, { topK: 2, columns: ['cat'] });
    assert.deepEqual(
      p.columns.map((c) => c.name),
      ['cat'],
    );
    assert.deepEqual(col(p, 'cat').top, {
      values: [
        { value: 'a', count: 50 },
        { value: 'c', count: 40 },
      ],
      other: 10,
    });
  });

  it('profiles Parquet: all-null numeric column, NaN/Infinity, timestamps', async () => {
    const p = await profileSource(engine, parquet, { bins: 10 });
    const nothing = col(p, 'nothing');
    assert.deepEqual([nothing.kind, nothing.count, nothing.nullShare, nothing.distinct], ['integer', 0, 1, 0]);
    assert.deepEqual([nothing.numeric!.min, nothing.numeric!.mean, nothing.numeric!.quantiles.p50], [null, null, null]);
    assert.deepEqual(nothing.numeric!.histogram, { edges: [], counts: [], below: 0, above: 0 });

    const ratio = col(p, 'ratio');
    assert.deepEqual([ratio.count, ratio.numeric!.nonFinite], [100, 2]);
    assert.deepEqual([ratio.numeric!.min, ratio.numeric!.max], [0.75, 25]);
    assert.equal(ratio.numeric!.histogram.counts.length, 10);
    assert.equal(histTotal(ratio), 98, 'non-finite values stay out of the histogram');

    assert.deepEqual(col(p, 'ts').temporal, { min: '2024-03-01T01:00:00.000Z', max: '2024-03-05T04:00:00.000Z' });
  });

  it('reuses a reference profile’s bins (binsFrom), counting values outside them', async () => {
    const narrow = join(dir, 'narrow.csv');
    writeFileSync(narrow, `id\n${Array.from({ length: 50 }, (_, i) => i + 26).join('\n')}\n`); // 26..75
    const reference = await profileSource(engine, narrow, { bins: 5 });
    const p = await profileSource(engine, csv, { binsFrom: reference, columns: ['id'] });
    const h = col(p, 'id').numeric!.histogram;
    assert.deepEqual(h.edges, col(reference, 'id').numeric!.histogram.edges);
    assert.deepEqual([h.below, h.above, h.counts.reduce((s, x) => s + x, 0)], [25, 25, 50]);
    assert.deepEqual(h.counts, col(reference, 'id').numeric!.histogram.counts);
  });

  it('gives one zero-width bin to a constant column', async () => {
    const constant = join(dir, 'constant.csv');
    writeFileSync(constant, 'v\n7\n7\n7\n');
    const v = col(await profileSource(engine, constant), 'v');
    assert.deepEqual(v.numeric!.histogram, { edges: [7, 7], counts: [3], below: 0, above: 0 });
    assert.equal(v.numeric!.std, 0);
  });

  it('profiles a header-only CSV as 0 rows, and a header-only Parquet with typed empty stats', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, 'a,b\n');
    const p = await profileSource(engine, empty);
    assert.equal(p.rows, 0);
    assert.deepEqual(
      p.columns.map((c) => [c.name, c.count, c.nulls, c.nullShare, c.distinct, c.top]),
      [
        ['a', 0, 0, 0, 0, { values: [], other: 0 }],
        ['b', 0, 0, 0, 0, { values: [], other: 0 }],
      ],
    );

    const emptyParquet = join(dir, 'empty.parquet');
    await engine.query(`COPY (SELECT * FROM '${parquet}' LIMIT 0) TO '${emptyParquet}' (FORMAT parquet)`);
    const q = await profileSource(engine, emptyParquet);
    assert.equal(q.rows, 0);
    assert.deepEqual(col(q, 'ratio').numeric!.histogram.edges, []);
    assert.deepEqual(col(q, 'ts').temporal, { min: null, max: null });
  });

  it('answers bad inputs with clear errors', async () => {
    const zero = join(dir, 'zero.csv');
    writeFileSync(zero, '');
    await assert.rejects(profileSource(engine, zero), (err: unknown) => err instanceof OfflineError && err.reason === 'empty_file');
    await assert.rejects(profileSource(engine, csv, { columns: ['id', 'nope'] }), (err: unknown) => {
      assert.ok(err instanceof ProfileError);
      assert.equal(err.reason, 'unknown_column');
      assert.match(err.message, /"nope".*Its columns are: id, amount/);
      return true;
    });
    await assert.rejects(profileSource(engine, csv, { bins: 0 }), (err: unknown) => err instanceof ProfileError && err.reason === 'invalid_options');
    await assert.rejects(profileSource(engine, csv, { binsFrom: { version: 2 } as unknown as DatasetProfile }), (err: unknown) => err instanceof ProfileError && err.reason === 'invalid_profile');
  });

  it('profiles the real seattle-weather.csv', async () => {
    const p = await profileSource(engine, SEATTLE);
    assert.equal(p.rows, 1461);
    assert.deepEqual(col(p, 'date').temporal, { min: '2012-01-01', max: '2015-12-31' });
    assert.equal(col(p, 'date').distinct, 1461);
    const precipitation = col(p, 'precipitation');
    assert.deepEqual([precipitation.numeric!.min, precipitation.numeric!.max, precipitation.nulls], [0, 55.9, 0]);
    for (const name of ['precipitation', 'temp_max', 'temp_min', 'wind']) assert.equal(histTotal(col(p, name)), 1461, name);
    const weather = col(p, 'weather').top!;
    assert.deepEqual(weather.values.map((v) => v.value).sort(), ['drizzle', 'fog', 'rain', 'snow', 'sun']);
    assert.equal(weather.other, 0);
    assert.equal(
      weather.values.reduce((s, v) => s + v.count, 0),
      1461,
    );
  });
});
