// The tracking script API (baton/tracking): buffered batches, run details, and 8 processes logging into one SQLite
// file at once without an error or a lost point.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openMetadataStore } from '../src/composition/adapters.ts';
import { isContention } from '../src/tracking/client.ts';
import { openTracking } from '../src/composition/tracking.ts';
import { BatonError } from '../src/errors.ts';

const run = promisify(execFile);

test('a script run logs params, tags and metrics in batches and ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tr-'));
  try {
    const store = `sqlite:${join(dir, 'b.db')}`;
    const t = await openTracking({ store, flushPoints: 100, flushMs: 5 });
    const r = await t.startRun({ experiment: 'e', name: 'first', tags: { team: 'ml' } });
    r.logParams({ lr: 0.1, model: 'rf', deep: true });
    for (let i = 0; i < 250; i++) r.logMetric('loss', 1 / (i + 1));
    r.logMetric('auc', 0.9, { step: 3 });
    assert.throws(() => r.logParams({ bad: null as unknown as string }), BatonError);
    await r.end('succeeded');
    assert.throws(() => r.logMetric('x', 1), /ended/);
    const got = await t.store.getTrackingRun(r.id);
    assert.equal(got?.status, 'succeeded');
    assert.deepEqual(got?.params, { deep: 'true', lr: '0.1', model: 'rf' });
    assert.deepEqual(got?.tags, { team: 'ml' });
    assert.equal(got?.metrics.loss?.step, 249);
    assert.equal((await t.store.getMetricHistory(r.id, 'loss')).total, 250);
    await t.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a script run logs artifacts: local files and directories are stored first, handles are checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tra-'));
  try {
    const config = { store: `sqlite:${join(dir, 'b.db')}`, artifacts: `file:${join(dir, 'artifacts')}`, flushMs: 5 };
    writeFileSync(join(dir, 'roc.png'), 'png bytes');
    mkdirSync(join(dir, 'report'));
    writeFileSync(join(dir, 'report', 'index.html'), '<html>');
    const t = await openTracking(config);
    const r = await t.startRun({ experiment: 'e' });
    const roc = await r.logArtifact('roc', join(dir, 'roc.png'));
    const report = await r.logArtifact('report', join(dir, 'report'));
    assert.deepEqual([roc.$artifact, roc.name, roc.size, report.$artifact], ['file', 'roc.png', 9, 'dir']);
    assert.equal((await t.artifacts.read(roc.sha256)).toString(), 'png bytes');
    assert.deepEqual(await r.logArtifact('again', { ...roc, name: 'copy.png' }), { ...roc, name: 'copy.png' });
    await assert.rejects(r.logArtifact('gone', join(dir, 'nope.png')), (e: BatonError) => e.code === 'usage' && /cannot read that path/.test(e.message));
    await assert.rejects(r.logArtifact('alien', { ...roc, sha256: 'f'.repeat(64) }), (e: BatonError) => e.code === 'not_found' && /is not in the artifact store/.test(e.message));
    await assert.rejects(r.logArtifact('bad', { sha256: 'x' } as never), (e: BatonError) => e.code === 'usage' && /needs a file, directory or dataset handle/.test(e.message));
    await r.end();
    await assert.rejects(r.logArtifact('late', roc), /ended/);
    const got = await t.store.getTrackingRun(r.id);
    assert.deepEqual(Object.keys(got?.artifacts ?? {}), ['again', 'report', 'roc']);
    assert.deepEqual(got?.artifacts.roc?.handle, roc);
    assert.deepEqual(await t.store.getLineage(r.id), [], 'a script run is not an attempt: no lineage');
    await t.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('busy-store errors count as contention, others do not', () => {
  assert.equal(isContention(new BatonError('store', 'x', { cause: Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }) })), true);
  assert.equal(isContention(Object.assign(new Error('could not serialize access'), { code: '40001' })), true);
  assert.equal(isContention(new Error('no such table')), false);
});

test('8 processes logging at once into one SQLite file: no errors, every point stored', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tr8-'));
  try {
    const url = `sqlite:${join(dir, 'b.db')}`;
    await (await openMetadataStore(url)).close(); // migrate once up front
    const fixture = join(import.meta.dirname, 'fixtures', 'tracking-writer.ts');
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => run(process.execPath, ['--conditions=baton-source', '--import', 'tsx', fixture, url, String(i), '2000']).then((r) => r.stdout.trim())));
    const store = await openMetadataStore(url);
    try {
      for (const id of ids) {
        const h = await store.getMetricHistory(id, 'loss');
        assert.equal(h.total, 2000, id);
        const r = await store.getTrackingRun(id);
        assert.equal(r?.status, 'succeeded');
        assert.equal(r?.metrics.loss?.step, 1999);
      }
      const page = await store.searchRuns({ filter: `params.model = 'rf' or tags.writer = '0'`, experiments: ['concurrent'] });
      assert.equal(page.runs.length, 5);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
