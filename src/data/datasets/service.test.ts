import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openMetadataStore } from '../../composition/adapters.ts';
import { BatonError } from '../../errors.ts';
import type { MetadataStore } from '../../ports/metadata.ts';
import { lazyOfflineEngine } from '../../stores/offline/duckdb/lazy.ts';
import { LocalArtifactStore } from '../../stores/artifacts/local/store.ts';
import { parseDatasetRef } from './ref.ts';
import { DatasetService } from './service.ts';

let dir: string;
let store: MetadataStore;
let service: DatasetService;
let now = 1_000;

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const rejectsWith = (p: Promise<unknown>, code: string, message: RegExp) =>
  assert.rejects(p, (err: unknown) => err instanceof BatonError && err.code === code && message.test(err.message));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-datasets-'));
  store = await openMetadataStore(`sqlite:${join(dir, 'baton.db')}`);
  service = new DatasetService({ store, artifacts: new LocalArtifactStore(join(dir, 'artifacts')), offline: lazyOfflineEngine().get, clock: { now: () => now++ } });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('parses dataset references: name, number, latest, sha prefix (all-digit prefixes too)', () => {
  assert.deepEqual(parseDatasetRef('sales'), { name: 'sales', version: 'latest' });
  assert.deepEqual(parseDatasetRef('raw/sales@3'), { name: 'raw/sales', version: 3 });
  assert.deepEqual(parseDatasetRef('sales@latest'), { name: 'sales', version: 'latest' });
  assert.deepEqual(parseDatasetRef('sales@9F2C'), { name: 'sales', version: '9f2c' });
  assert.deepEqual(parseDatasetRef('sales@60272361'), { name: 'sales', version: 60272361, orSha: '60272361' });
  assert.throws(() => parseDatasetRef('sales@v2'), /not a dataset reference/);
  assert.throws(() => parseDatasetRef('@2'), /Dataset name "" is not valid/);
});

test('registering the same content again returns its version; new content gets the next one', async () => {
  const a = await service.register('trips', file('a.csv', 'id,city\n1,Oslo\n2,Lima\n'));
  assert.deepEqual([a.created, a.version.version, a.version.rows], [true, 1, 2]);
  assert.deepEqual(a.version.schema, [{ name: 'id', type: 'BIGINT', kind: 'integer', nullable: false }, { name: 'city', type: 'VARCHAR', kind: 'string', nullable: false }]);
  const same = await service.register('trips', file('copy.csv', 'id,city\n1,Oslo\n2,Lima\n'));
  assert.deepEqual([same.created, same.version.version], [false, 1]);
  const b = await service.register('trips', file('b.json', '[{"id": 1, "city": null, "km": 3.5}]'));
  assert.deepEqual([b.created, b.version.version, b.version.format], [true, 2, 'json']);
  assert.equal(b.version.schema.find((c) => c.name === 'city')?.nullable, true);
  assert.deepEqual((await service.list()).map((d) => [d.name, d.latest, d.versions]), [['trips', 2, 2]]);

  const diff = await service.diff('trips@1', 'trips@2');
  assert.deepEqual([diff.a.source, diff.b.source, diff.rows.a, diff.rows.b], ['trips@1', 'trips@2', 2, 1]);
  assert.deepEqual(diff.schema.added.map((c) => c.name), ['km']);

  const shown = await service.show('trips@1');
  assert.deepEqual([shown.version.version, shown.latest, shown.lineage], [1, 2, { readBy: [] }]);
  assert.equal(shown.profile?.columns.length, 2);
  const handle = await service.handle('trips');
  assert.deepEqual([handle.dataset.version, handle.format, handle.name], [2, 'json', 'trips.json']);
});

test('unknown datasets and versions are not_found and list what exists', async () => {
  await rejectsWith(service.resolve('nope'), 'not_found', /No dataset "nope" in sqlite:.*Datasets: trips\./);
  await rejectsWith(service.resolve('trips@7'), 'not_found', /Dataset "trips" has no version 7\. Its versions: 1 \(\w{8}\), 2 \(\w{8}\)/);
  await rejectsWith(service.versions('nope'), 'not_found', /No dataset "nope"/);
});

test('a file that cannot be read registers nothing', async () => {
  const before = await store.getDatasetVersions('trips');
  await rejectsWith(service.register('trips', file('empty.csv', '')), 'data_invalid', /empty\.csv" is empty/);
  await rejectsWith(service.register('trips', file('bad.csv', 'a,b\n1,2\n3,4,5\n')), 'data_invalid', /malformed.*Line 3 has 3 fields/s);
  await rejectsWith(service.register('trips', join(dir, 'missing.parquet')), 'not_found', /does not exist/);
  await rejectsWith(service.register('trips', file('x.xml', '<a/>')), 'usage', /Cannot tell the format of .*x\.xml/);
  await rejectsWith(service.register('trips', file('c.csv', 'a\n1\n'), { format: 'xlsx' }), 'usage', /Unknown dataset format "xlsx"\. Use one of: csv, parquet, json/);
  await rejectsWith(service.register('new', file('empty2.csv', '')), 'data_invalid', /is empty/);
  assert.deepEqual(await store.getDatasetVersions('trips'), before);
  assert.deepEqual((await service.list()).map((d) => d.name), ['trips']);
});
