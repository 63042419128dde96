import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBOfflineEngine } from '../../stores/offline/duckdb/engine.ts';
import { diffProfiles, formatDiff, jensenShannonDistance, populationStabilityIndex, profileSource, ProfileError, rebin, type ColumnDiff, type DatasetProfile, type ProfileDiff } from './index.ts';

/** Deterministic pseudo-random numbers (LCG) and roughly normal values (sum of 12 uniforms − 6). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const normal = (r: () => number): number => Array.from({ length: 12 }, r).reduce((a, b) => a + b, 0) - 6;

/** n rows of x ~ N(mean, 1), cat drawn with the given shares of 'red' / 'green' / 'blue', and a constant k. */
function dataset(n: number, seed: number, mean: number, shares: [number, number, number]): string {
  const r = rng(seed);
  const lines = ['x,cat,k'];
  for (let i = 0; i < n; i++) {
    const u = r();
    const cat = u < shares[0] ? 'red' : u < shares[0] + shares[1] ? 'green' : 'blue';
    lines.push(`${(mean + normal(r)).toFixed(4)},${cat},1`);
  }
  return `${lines.join('\n')}\n`;
}

const column = (d: ProfileDiff, name: string): ColumnDiff => {
  const c = d.columns.find((x) => x.name === name);
  assert.ok(c, `no column ${name} in diff`);
  return c;
};

describe('diffProfiles', () => {
  let dir: string;
  let engine: DuckDBOfflineEngine;
  let base: DatasetProfile;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-profile-diff-'));
    engine = await DuckDBOfflineEngine.open({ threads: 2 });
    base = await profileSource(engine, file('base.csv', dataset(5000, 1, 0, [0.6, 0.3, 0.1])));
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing between identical data', async () => {
    const same = await profileSource(engine, file('same.csv', dataset(5000, 1, 0, [0.6, 0.3, 0.1])));
    const d = diffProfiles(base, same);
    assert.deepEqual(d.schema, { added: [], removed: [], retyped: [] });
    assert.deepEqual(d.rows, { a: 5000, b: 5000, delta: 0 });
    assert.deepEqual(d.drifted, []);
    for (const c of d.columns) {
      assert.ok(c.drift, `${c.name} has a drift score`);
      assert.equal(c.drift.psi, 0, c.name);
      assert.equal(c.drift.jensenShannon, 0, c.name);
      assert.equal(c.mean?.delta ?? 0, 0);
      assert.equal(c.nullShare.delta, 0);
    }
    assert.equal(column(d, 'x').drift!.basis, 'histogram');
    assert.equal(column(d, 'x').drift!.bins, 22, '20 bins plus below and above');
    assert.equal(column(d, 'cat').drift!.basis, 'top_values');
  });

  it('stays low for another sample of the same distribution', async () => {
    const other = await profileSource(engine, file('resample.csv', dataset(5000, 2, 0, [0.6, 0.3, 0.1])), { binsFrom: base });
    const d = diffProfiles(base, other);
    assert.ok(column(d, 'x').drift!.psi < 0.1, `psi ${column(d, 'x').drift!.psi}`);
    assert.ok(column(d, 'cat').drift!.psi < 0.1);
    assert.deepEqual(d.drifted, []);
  });

  it('flags a shifted numeric distribution and a shifted category mix', async () => {
    const shiftedCsv = file('shifted.csv', dataset(4000, 3, 1, [0.3, 0.3, 0.4]));
    const exact = diffProfiles(base, await profileSource(engine, shiftedCsv, { binsFrom: base }));
    const rebinned = diffProfiles(base, await profileSource(engine, shiftedCsv));
    for (const d of [exact, rebinned]) {
      assert.ok(column(d, 'x').drift!.psi > 0.2, `psi ${column(d, 'x').drift!.psi}`);
      assert.ok(column(d, 'x').drift!.jensenShannon > 0.2);
      assert.ok(column(d, 'cat').drift!.psi > 0.2);
      assert.deepEqual(d.drifted, ['x', 'cat']);
      assert.ok(Math.abs(column(d, 'x').mean!.delta! - 1) < 0.1);
      assert.ok(Math.abs(column(d, 'x').quantiles!.p50.delta! - 1) < 0.15);
      assert.deepEqual(d.rows, { a: 5000, b: 4000, delta: -1000 });
    }
    // Re-binning b's own histogram approximates the exact score.
    const [e, r] = [column(exact, 'x').drift!.psi, column(rebinned, 'x').drift!.psi];
    assert.ok(Math.abs(e - r) / e < 0.25, `exact ${e} vs re-binned ${r}`);
  });

  it('detects added, removed and retyped columns', async () => {
    const r = rng(4);
    const lines = ['x,cat,extra'];
    for (let i = 0; i < 100; i++) lines.push(`v${i},${r() < 0.5 ? 'red' : 'blue'},${i}`);
    const d = diffProfiles(base, await profileSource(engine, file('schema.csv', `${lines.join('\n')}\n`)));
    assert.deepEqual(d.schema.added, [{ name: 'extra', type: 'BIGINT', kind: 'integer' }]);
    assert.deepEqual(d.schema.removed, [{ name: 'k', type: 'BIGINT', kind: 'integer' }]);
    assert.deepEqual(d.schema.retyped, [{ name: 'x', from: { name: 'x', type: 'DOUBLE', kind: 'float' }, to: { name: 'x', type: 'VARCHAR', kind: 'string' } }]);
    assert.deepEqual(
      d.columns.map((c) => c.name),
      ['x', 'cat'],
    );
    assert.equal(column(d, 'x').drift, null, 'numeric vs string: no drift score');
    assert.ok(column(d, 'cat').drift!.psi > 0.2, 'green vanished, blue grew');
  });

  it('diffs against an empty version without a drift score', async () => {
    const empty = await profileSource(engine, file('empty.csv', 'x,cat,k\n'));
    const d = diffProfiles(base, empty);
    assert.deepEqual(d.rows, { a: 5000, b: 0, delta: -5000 });
    assert.deepEqual(
      d.schema.retyped.map((c) => c.name),
      ['x', 'k'],
    );
    assert.equal(column(d, 'cat').drift, null);
    assert.deepEqual(d.drifted, []);
    assert.match(formatDiff(d), /rows: 5,000 → 0 \(-100%\)/);
  });

  it('formats a diff for humans', async () => {
    const shifted = await profileSource(engine, file('shifted2.csv', dataset(4000, 3, 1, [0.3, 0.3, 0.4])), { binsFrom: base });
    const text = formatDiff(diffProfiles(base, shifted));
    assert.match(text, /base\.csv → .*shifted2\.csv/);
    assert.match(text, /rows: 5,000 → 4,000 \(-20%\)/);
    assert.match(text, /schema: unchanged/);
    assert.match(text, /^! x /m);
    assert.match(text, /^ {2}k /m);
    assert.match(text, /drift \(PSI ≥ 0\.2\): x, cat/);
    const same = formatDiff(diffProfiles(base, base));
    assert.match(same, /rows: 5,000 \(unchanged\)/);
    assert.match(same, /no column drifted/);
  });

  it('rejects things that are not profiles', () => {
    assert.throws(() => diffProfiles(base, { version: 9 } as unknown as DatasetProfile), (err: unknown) => err instanceof ProfileError && err.reason === 'invalid_profile');
    assert.throws(() => diffProfiles(base, base, { psiThreshold: 0 }), (err: unknown) => err instanceof ProfileError && err.reason === 'invalid_options');
  });
});

describe('drift measures', () => {
  it('PSI and Jensen–Shannon on count vectors', () => {
    assert.equal(populationStabilityIndex([10, 20, 30], [1, 2, 3]), 0);
    assert.equal(jensenShannonDistance([10, 20, 30], [1, 2, 3]), 0);
    assert.equal(jensenShannonDistance([1, 0], [0, 1]), 1);
    // (0.5 − 0.9)·ln(0.5/0.9) + (0.5 − 0.1)·ln(0.5/0.1)
    const expected = -0.4 * Math.log(0.5 / 0.9) + 0.4 * Math.log(5);
    assert.ok(Math.abs(populationStabilityIndex([9, 1], [5, 5])! - expected) < 1e-12);
    assert.equal(populationStabilityIndex([0, 0], [1, 1]), null);
  });

  it('re-bins a histogram onto other edges, keeping every count', () => {
    // b: 10 in [0, 10), 10 in [10, 20]; a's edges [5, 15] in 2 bins.
    const out = rebin({ edges: [0, 10, 20], counts: [10, 10], below: 0, above: 0 }, [5, 10, 15]);
    assert.deepEqual(out, [5, 5, 5, 5]);
    const point = rebin({ edges: [7, 7], counts: [4], below: 1, above: 2 }, [0, 5, 10]);
    assert.deepEqual(point, [0, 0, 7, 0], "a point mass (and b’s own below/above) lands in the bin holding it");
  });
});
