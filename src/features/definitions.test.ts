import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalDefinition, entity, FeatureError, featureView, portablePath, type FeatureViewInput } from './index.ts';

const origin = entity({ name: 'origin', joinKeys: ['origin'] });
const base: FeatureViewInput = { name: 'origin_stats', entities: [origin], source: { path: 'stats.parquet' }, timestampField: 'ts', ttlMs: 3_600_000, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' } };

const rejects = (fn: () => unknown, reason: string, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FeatureError, `expected a FeatureError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, pattern);
    return true;
  });

describe('feature definitions', () => {
  it('versions a view by its canonical definition (key order and type case do not matter)', () => {
    const a = featureView(base);
    const b = featureView({ features: { flights: 'bigint', avg_delay: 'double' }, ttlMs: 3_600_000, timestampField: 'ts', source: { path: 'stats.parquet' }, entities: [origin], name: 'origin_stats' });
    assert.match(a.version, /^[0-9a-f]{64}$/);
    assert.equal(a.version, b.version);
    assert.equal(canonicalDefinition(a), canonicalDefinition(b));
    assert.deepEqual(a.joinKeys, ['origin']);
    assert.ok(Object.isFrozen(a));
  });

  it('changes the version when anything that shapes the values changes', () => {
    const v = featureView(base).version;
    const variants: Partial<FeatureViewInput>[] = [
      { ttlMs: 7_200_000 },
      { ttlMs: null },
      { timestampField: 'event_ts' },
      { source: { path: 'other.parquet' } },
      { source: { sql: 'SELECT * FROM f', inputs: { f: 'stats.parquet' } } },
      { features: { avg_delay: 'FLOAT', flights: 'BIGINT' } },
      { entities: [entity({ name: 'origin', joinKeys: ['airport'] })] },
      { name: 'origin_stats2' },
    ];
    const versions = variants.map((x) => featureView({ ...base, ...x }).version);
    assert.equal(new Set([v, ...versions]).size, variants.length + 1);
  });

  it('rejects bad definitions, naming the field and the fix', () => {
    rejects(() => featureView({ ...base, ttlMs: 0 }), 'invalid_definition', /ttlMs: ttlMs must be > 0 \(use null for features that never expire\)/);
    rejects(() => featureView({ ...base, ttlMs: 1.5 }), 'invalid_definition', /ttlMs: ttlMs must be a whole number/);
    rejects(() => featureView({ ...base, features: {} }), 'invalid_definition', /features: a feature view needs at least one feature/);
    rejects(() => featureView({ ...base, features: { avg_delay: 'REALLY_BIG' as never } }), 'invalid_definition', /"origin_stats"[\s\S]*features\.avg_delay: must be one of BOOLEAN, .*DOUBLE/);
    rejects(() => featureView({ ...base, name: 'route-stats' }), 'invalid_definition', /name: a feature view name must start with a letter/);
    rejects(() => featureView({ ...base, entities: [] }), 'invalid_definition', /entities: a feature view needs at least one entity/);
    rejects(() => featureView({ ...base, entities: [{ name: 'x' } as never] }), 'invalid_definition', /entities\.0: each entity must be made with entity/);
    rejects(() => featureView({ ...base, source: { table: 'x' } as never }), 'invalid_definition', /source: source must be \{ path, format\? \}/);
    rejects(() => featureView({ ...base, features: { origin: 'VARCHAR' } }), 'invalid_definition', /feature "origin" has the name of a join key/);
    rejects(() => entity({ name: 'origin', joinKeys: [] }), 'invalid_definition', /joinKeys: an entity needs at least one join key/);
    rejects(() => entity({ name: 'origin', joinKeys: ['a', 'a'] }), 'invalid_definition', /join key "a" is listed twice/);
  });

  it('gives the same definition the same version in two clones of a project, wherever they live', () => {
    const parent = mkdtempSync(join(tmpdir(), 'baton-clones-'));
    try {
      const clone = (name: string) => {
        const root = join(parent, name, 'checkout');
        mkdirSync(join(root, 'data'), { recursive: true });
        writeFileSync(join(root, 'package.json'), '{}');
        return root;
      };
      const [a, b] = [clone('alice'), clone('ci-runner-7')];
      const sqlView = (root: string, sql = 'SELECT origin, ts, avg(delay) AS avg_delay, count(*) AS flights FROM f GROUP BY ALL') =>
        featureView({ ...base, source: { sql, inputs: { f: { path: join(root, 'data', 'flights.parquet'), format: 'parquet' } } } });
      const fileView = (root: string, rel: string) => featureView({ ...base, source: { path: join(root, rel) } });
      assert.equal(portablePath(join(a, 'data', 'flights.parquet')), 'data/flights.parquet');
      assert.equal(sqlView(a).version, sqlView(b).version, 'a SQL source over files of each clone');
      assert.equal(fileView(a, '.baton/artifacts/ab/abcdef').version, fileView(b, '.baton/artifacts/ab/abcdef').version, 'a file under each clone\'s .baton');
      assert.notEqual(sqlView(a).version, sqlView(a, 'SELECT origin, ts, avg(delay) AS avg_delay, count(*) AS flights FROM f WHERE delay > 0 GROUP BY ALL').version, 'changed SQL');
      assert.notEqual(fileView(a, 'data/2023.parquet').version, fileView(a, 'data/2024.parquet').version, 'another file of the project');
      // A folder holding .baton is a project too: the demo's dataset files under .baton/artifacts, in two folders.
      const withBaton = (name: string) => {
        const root = join(parent, name);
        mkdirSync(join(root, '.baton', 'artifacts', 'ab'), { recursive: true });
        return fileView(root, '.baton/artifacts/ab/abcdef');
      };
      assert.equal(withBaton('demo-1').version, withBaton('demo-2').version);
      // Outside any project a path enters as is: two different files never share a version.
      assert.notEqual(fileView(join(parent, 'alice'), 'stats.parquet').version, fileView(join(parent, 'ci-runner-7'), 'stats.parquet').version);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('versions a transform source by its code, or by its explicit version', () => {
    const t = (transform: () => unknown[], version?: string) => featureView({ ...base, source: { transform, ...(version ? { version } : {}) } as FeatureViewInput['source'] });
    const rows = () => [{ origin: 'SEA', ts: new Date(0), avg_delay: 1, flights: 2 }];
    const sameText = () => [{ origin: 'SEA', ts: new Date(0), avg_delay: 1, flights: 2 }];
    const other = () => [{ origin: 'SFO', ts: new Date(0), avg_delay: 1, flights: 2 }];
    assert.equal(t(rows).version, t(sameText).version);
    assert.notEqual(t(rows).version, t(other).version);
    assert.equal(t(rows, '2').version, t(other, '2').version);
    assert.notEqual(t(rows, '2').version, t(rows, '3').version);
    assert.equal(typeof (t(rows).source as { transform: unknown }).transform, 'function');
    rejects(() => featureView({ ...base, source: { transform: 'SELECT 1' } as never }), 'invalid_definition', /source: source must be .*\{ transform \}/);
  });
});
