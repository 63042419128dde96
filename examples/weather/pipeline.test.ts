// The weather training pipeline run end to end on the embedded platform (SQLite + local artifacts, inline executor).
// Run: node --import tsx --test examples/weather/pipeline.test.ts

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPlatform, type Platform, type RunOutcome } from '../../src/composition/index.ts';
import { workflow } from '../../src/sdk/index.ts';
import { decodeShallow } from '../../src/values/codec.ts';
import pipeline, { DEFAULT_CANDIDATES, REQUIRED_COLUMNS, load, rankCandidates, validate } from './pipeline.ts';

type Summary = NonNullable<(typeof pipeline)['__output']>;

let dir: string;
let platform: Platform;
let first: RunOutcome;
let summary: Summary;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-weather-'));
  platform = await openPlatform({ cwd: dir, executor: 'inline' });
  first = await platform.run(pipeline, {});
  if (first.output) summary = (await decodeShallow(first.output, platform.artifacts)) as Summary;
});

after(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the pipeline succeeds and the best model beats the majority-class baseline', () => {
  assert.equal(first.status, 'succeeded', first.error);
  const { best, baseline, beatsBaseline, data } = summary;
  assert.equal(data.rows, 1461);
  assert.equal(data.nTrain + data.nTest, 1461);
  assert.equal(data.nTest, Math.round(1461 * 0.2));
  assert.ok(beatsBaseline);
  assert.ok(best.metrics.macroF1 > baseline.macroF1 + 0.2, `best macro-F1 ${best.metrics.macroF1} vs baseline ${baseline.macroF1}`);
  assert.ok(best.metrics.accuracy > baseline.accuracy + 0.2, `best accuracy ${best.metrics.accuracy} vs baseline ${baseline.accuracy}`);
});

test('every candidate is trained and evaluated; the winner has the highest macro-F1', () => {
  const { best, candidates } = summary;
  assert.equal(candidates.length, DEFAULT_CANDIDATES.length);
  assert.ok(new Set(candidates.map((c) => c.kind)).size >= 4);
  for (const c of candidates) {
    assert.ok(c.accuracy > 0 && c.accuracy <= 1, `${c.name} accuracy ${c.accuracy}`);
    assert.ok(c.macroF1 > 0 && c.macroF1 <= 1, `${c.name} macro-F1 ${c.macroF1}`);
  }
  assert.equal(new Set(candidates.map((c) => c.name)).size, candidates.length, 'candidate names are unique');
  assert.equal(best.name, candidates[0]!.name);
  assert.ok(candidates.every((c) => c.macroF1 <= best.metrics.macroF1));
  // Sorted by macro-F1, ties by accuracy.
  for (let i = 1; i < candidates.length; i++) {
    const [a, b] = [candidates[i - 1]!, candidates[i]!];
    assert.ok(a.macroF1 > b.macroF1 || (a.macroF1 === b.macroF1 && a.accuracy >= b.accuracy), `${a.name} before ${b.name}`);
  }
});

test('the split and every model are stored as artifacts, with lineage', async () => {
  const lineage = await platform.store.getLineage(first.runId);
  const writes = (prefix: string) => lineage.filter((l) => l.direction === 'write' && l.nodeId.startsWith(prefix)).map((l) => l.sha256);
  const reads = (prefix: string) => lineage.filter((l) => l.direction === 'read' && l.nodeId.startsWith(prefix)).map((l) => l.sha256);
  const nodes = await platform.store.getNodes(first.runId);
  const split = nodes.find((n) => n.id === 'weather.split')!;
  const splitHandle = (JSON.parse(split.output!.json!) as { split: { sha256: string } }).split;
  assert.ok(writes('weather.split').includes(splitHandle.sha256), 'the split task wrote the split artifact');
  for (const c of summary.candidates) {
    assert.ok(writes('weather.train[').includes(c.model.sha256), `model of ${c.name} written by a train task`);
    assert.ok(reads('weather.evaluate[').includes(c.model.sha256), `model of ${c.name} read by an evaluate task`);
    const bytes = await platform.artifacts.read(c.model.sha256);
    assert.equal(bytes.length, c.model.size);
    assert.equal((JSON.parse(bytes.toString('utf8')) as { kind: string }).kind, c.kind);
  }
  assert.ok(reads('weather.train[').includes(splitHandle.sha256), 'train tasks read the split');
});

test('a second run is served entirely from the cache', async () => {
  const second = await platform.run(pipeline, {});
  assert.equal(second.status, 'succeeded', second.error);
  const tasks = (await platform.store.getNodes(second.runId)).filter((n) => n.spec.kind === 'task');
  assert.equal(tasks.length, 5 + 2 * DEFAULT_CANDIDATES.length);
  assert.deepEqual(tasks.filter((n) => !n.cachedFrom).map((n) => n.id), [], 'tasks that were not cached');
  assert.equal(second.output?.hash, first.output?.hash);
});

test('a different seed reuses loading and features but re-splits and retrains', async () => {
  const candidates = [{ kind: 'tree' as const, params: { maxDepth: 4 } }, { kind: 'naive-bayes' as const, params: {} }];
  const run = await platform.run(pipeline, { seed: 7, candidates });
  assert.equal(run.status, 'succeeded', run.error);
  const nodes = await platform.store.getNodes(run.runId);
  const cached = nodes.filter((n) => n.spec.kind === 'task' && n.cachedFrom).map((n) => n.id);
  assert.deepEqual(cached, ['weather.load', 'weather.validate', 'weather.features']);
});

test('missing columns fail the validate task with a clear message', async () => {
  const broken = workflow({ name: 'weather-validate-missing' }, () => validate({ rows: load({}).rows, required: [...REQUIRED_COLUMNS, 'humidity'] }));
  const run = await platform.run(broken, {});
  assert.equal(run.status, 'failed');
  const node = await platform.store.getNode(run.runId, 'weather.validate');
  assert.equal(node?.state, 'failed');
  assert.match(node?.error ?? '', /missing required column\(s\) "humidity" \(it has "date", "precipitation", /);
});

test('bad parameters are rejected before the run starts', async () => {
  await assert.rejects(platform.run(pipeline, { candidates: [{ kind: 'svm' }] }), /parameter "candidates\.0\.kind"/);
  await assert.rejects(platform.run(pipeline, { testFraction: 1 }), /parameter "testFraction"/);
});

test('rankCandidates orders by macro-F1, then accuracy', () => {
  const m = (name: string, macroF1: number, accuracy: number) => ({ name, metrics: { macroF1, accuracy } });
  assert.deepEqual(rankCandidates([m('a', 0.5, 0.7), m('b', 0.6, 0.1), m('c', 0.5, 0.9)]).map((r) => r.name), ['b', 'c', 'a']);
});
