// Datasets end to end: tasks write versions with ctx.datasets.write and read them, the engine registers them with
// the attempt that wrote them, lineage shows who read them; and the `baton datasets` commands, bad inputs included.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { EXIT_CODES } from '../src/errors.ts';
import { decodeShallow } from '../src/values/codec.ts';
import type { Platform } from '../src/composition/platform.ts';
import { eventsCsv, readOnly, writeThenRead } from './fixtures/dataset-flows.ts';
import { tempPlatform } from './support/platform.ts';

async function nodeId(p: Platform, runId: string, task: string): Promise<string> {
  const nodes = await p.store.getNodes(runId);
  return nodes.find((n) => n.spec.task === task)!.id;
}

test('a task writes a dataset version, the next task reads it: the version records its writer, lineage its readers', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r1 = await platform.run(writeThenRead, { rows: 3 });
    assert.equal(r1.status, 'succeeded', r1.error);
    assert.deepEqual(await decodeShallow(r1.output!, platform.artifacts), { rows: 3 });
    const [v1, ...rest] = await platform.store.getDatasetVersions('events');
    assert.equal(rest.length, 0);
    assert.equal(v1!.version, 1);
    assert.equal(v1!.rows, 3);
    assert.equal(v1!.format, 'csv');
    assert.deepEqual(v1!.schema.map((c) => [c.name, c.kind]), [['id', 'integer'], ['kind', 'string'], ['amount', 'float']]);
    const producer = await nodeId(platform, r1.runId, 'ds.produce');
    const reader1 = await nodeId(platform, r1.runId, 'ds.consume');
    assert.deepEqual(v1!.producedBy, { runId: r1.runId, nodeId: producer, attempt: 1 });
    assert.ok(v1!.profileRef, 'the profile is stored with the version');
    assert.deepEqual(await platform.store.getDatasetLineage('events', 1), { producedBy: { runId: r1.runId, nodeId: producer, attempt: 1 }, readBy: [{ runId: r1.runId, nodeId: reader1, attempt: 1 }] });
    // The writer's lineage has the data file and the profile as writes.
    const writes = (await platform.store.getLineage(r1.runId, producer)).filter((l) => l.direction === 'write').map((l) => l.sha256);
    assert.ok(writes.includes(v1!.sha256) && writes.includes(v1!.profileRef!));

    // Identical content in another run (written from a file this time): the same version; the reader is recorded.
    const r2 = await platform.run(writeThenRead, { rows: 3, asFile: true });
    assert.equal(r2.status, 'succeeded', r2.error);
    assert.equal((await platform.store.getDatasetVersions('events')).length, 1);
    const lineage = await platform.store.getDatasetLineage('events', 1);
    assert.equal(lineage?.producedBy?.runId, r1.runId, 'the first writer stays the producer');
    assert.deepEqual(lineage?.readBy.map((a) => a.runId).sort(), [r1.runId, r2.runId].sort());

    // Different content: version 2.
    const r3 = await platform.run(writeThenRead, { rows: 5 });
    assert.equal(r3.status, 'succeeded', r3.error);
    const versions = await platform.store.getDatasetVersions('events');
    assert.deepEqual(versions.map((v) => [v.version, v.rows, v.producedBy?.runId]), [[1, 3, r1.runId], [2, 5, r3.runId]]);
    assert.deepEqual(await platform.store.listDatasets(), [{ name: 'events', latest: 2, versions: 2, updatedAt: versions[1]!.createdAt }]);

    // A handle made outside a run carries the version number, and reading it in a task is lineage too.
    const handle = await platform.datasets.handle('events@1');
    const r4 = await platform.run(readOnly, { events: handle });
    assert.equal(r4.status, 'succeeded', r4.error);
    assert.deepEqual(await decodeShallow(r4.output!, platform.artifacts), { rows: 3, version: 1 });
    assert.ok((await platform.store.getDatasetLineage('events', 1))?.readBy.some((a) => a.runId === r4.runId));
  } finally {
    await dispose();
  }
});

test('a task writing a malformed CSV fails with a message naming the dataset and the bad line; nothing is registered', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(writeThenRead, { rows: 1, broken: true });
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /Dataset "events".*malformed.*Line 3 has 3 fields where the header has 2/s);
    assert.deepEqual(await platform.store.listDatasets(), []);
  } finally {
    await dispose();
  }
});

test('ctx.datasets works in worker processes (DuckDB is loaded there on first use)', async () => {
  const { platform, dispose } = await tempPlatform({ executor: 'processes', workers: 1 });
  try {
    const r = await platform.run(writeThenRead, { rows: 4 });
    assert.equal(r.status, 'succeeded', r.error);
    const [v] = await platform.store.getDatasetVersions('events');
    assert.equal(v?.rows, 4);
    assert.equal(v?.producedBy?.runId, r.runId);
  } finally {
    await dispose();
  }
});

describe('baton datasets (CLI)', () => {
  const root = new URL('..', import.meta.url).pathname;
  const bin = join(root, 'bin/baton.mjs');
  let dir: string;
  const baton = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, '--cwd', dir, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const versionsInStore = (): number => {
    const db = new Database(join(dir, '.baton/baton.db'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM dataset_versions').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-ds-cli-'));
    writeFileSync(join(dir, 'v1.csv'), eventsCsv(3));
    writeFileSync(join(dir, 'v2.csv'), 'id,kind,score\n1,view,0.5\n2,click,0.7\n3,click,\n4,view,0.9\n');
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'ragged.csv'), 'a,b\n1,2\n3,4,5\n');
    writeFileSync(join(dir, 'notes.xml'), '<a/>');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('register, list, show and diff', () => {
    const a = baton('datasets', 'register', 'events', 'v1.csv');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /registered\s+events@1\s+3 rows, 3 columns/);
    const again = baton('datasets', 'register', 'events', 'v1.csv');
    assert.match(again.stdout, /unchanged\s+events@1/);
    const b = baton('datasets', 'register', 'events', join(dir, 'v2.csv'), '--format', 'csv', '--json');
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual((({ version, rows, created }) => ({ version, rows, created }))(JSON.parse(b.stdout) as { version: number; rows: number; created: boolean }), { version: 2, rows: 4, created: true });

    const list = baton('datasets', 'list');
    assert.match(list.stdout, /^events\s+2\s+2\s/m);

    const show = baton('datasets', 'show', 'events@1');
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /dataset events@1 \(latest is 2\)/);
    assert.match(show.stdout, /csv, \d+ B, 3 rows, 3 columns/);
    assert.match(show.stdout, /by registration/);
    assert.match(show.stdout, /^amount\s+DOUBLE\s+no\s+0\.0%\s+3\s+0 … 3, mean 1\.5/m);
    const latest = JSON.parse(baton('datasets', 'show', 'events', '--json').stdout) as { version: { version: number; sha256: string } };
    assert.equal(latest.version.version, 2);
    assert.match(baton('datasets', 'show', `events@${latest.version.sha256.slice(0, 8)}`).stdout, /dataset events@2 \(latest\)/);

    const diff = baton('datasets', 'diff', 'events@1', 'events@2');
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /events@1 → events@2/);
    assert.match(diff.stdout, /rows: 3 → 4/);
    assert.match(diff.stdout, /\+ score DOUBLE/);
    assert.match(diff.stdout, /- amount DOUBLE/);
    assert.match(diff.stdout, /^[ !] kind /m);
    assert.equal(baton('datasets', 'diff', 'events@1', '2').stdout, diff.stdout, 'the second version may be given as a number');
  });

  test('bad inputs: a clear message naming the item and the fix, a documented exit code, the store unchanged', () => {
    baton('datasets', 'register', 'events', 'v1.csv');
    const count = versionsInStore();
    const cases: [string[], number, RegExp][] = [
      [['datasets', 'show', 'nope'], EXIT_CODES.not_found, /No dataset "nope".*Datasets: events/s],
      [['datasets', 'show', 'events@9'], EXIT_CODES.not_found, /Dataset "events" has no version 9\. Its versions: 1 \(/],
      [['datasets', 'diff', 'events@1', 'events@7'], EXIT_CODES.not_found, /no version 7/],
      [['datasets', 'register', 'events', 'empty.csv'], EXIT_CODES.data_invalid, /empty\.csv" is empty \(0 bytes\)\. A CSV file needs at least a header row/],
      [['datasets', 'register', 'events', 'ragged.csv'], EXIT_CODES.data_invalid, /ragged\.csv" is malformed.*Line 3 has 3 fields where the header has 2/s],
      [['datasets', 'register', 'events', 'missing.csv'], EXIT_CODES.not_found, /missing\.csv" does not exist/],
      [['datasets', 'register', 'events', 'notes.xml'], EXIT_CODES.usage, /Cannot tell the format of "notes\.xml".*--format csv\|parquet\|json/],
      [['datasets', 'register', 'events', 'v1.csv', '--format', 'xml'], EXIT_CODES.usage, /Allowed choices are csv, parquet, json/],
      [['datasets', 'register', 'bad name', 'v1.csv'], EXIT_CODES.usage, /Dataset name "bad name" is not valid/],
      [['datasets', 'show', 'events@v1'], EXIT_CODES.usage, /not a dataset reference.*NAME@VERSION/s],
    ];
    for (const [args, code, message] of cases) {
      const r = baton(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(versionsInStore(), count);
  });
});
