import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Platform } from '../src/composition/platform.ts';
import type { StudyResult } from '../src/sdk/index.ts';
import { decodeShallow } from '../src/values/codec.ts';
import { fragileFlow, pruneFlow, quadFlow, slowFlow } from './fixtures/tune-flows.ts';
import { readStudy } from '../src/studies/read.ts';
import { tempPlatform } from './support/platform.ts';
import { until } from './support/wait.ts';

async function outputOf<T>(p: Platform, runId: string): Promise<T> {
  const run = await p.store.getRun(runId);
  assert.ok(run?.output, `run ${runId} has an output (${run?.status}: ${run?.error})`);
  return (await decodeShallow(run.output, p.artifacts)) as T;
}

type Quad = { best: StudyResult['best']; counts: StudyResult['counts']; trials: StudyResult['trials'] };

test('tune runs every trial as a task, in parallel, and returns the best trial with its output', async () => {
  const { platform, dir, dispose } = await tempPlatform({ cpus: 4 });
  try {
    const log = join(dir, 'trials.log');
    const r = await platform.run(quadFlow, { trials: 20, parallelism: 3, log });
    assert.equal(r.status, 'succeeded', r.error);
    const out = await outputOf<Quad>(platform, r.runId);
    assert.deepEqual(out.counts, { complete: 20, pruned: 0, failed: 0 });
    assert.deepEqual(out.trials.map((t) => t.number), Array.from({ length: 20 }, (_, i) => i));
    const min = Math.min(...out.trials.map((t) => t.value!));
    assert.equal(out.best.value, min, 'the best trial is the lowest loss');
    assert.equal(out.best.value, (out.best.output as { loss: number }).loss, "the best trial's own output comes along");
    assert.ok(out.best.value < 3, `20 TPE trials get near the optimum 1 (best ${out.best.value})`);
    for (const t of out.trials) {
      const p = t.params as { x: number; y: number; kind: string };
      assert.ok(p.x >= -5 && p.x <= 5 && Number.isInteger(p.y) && p.y >= 0 && p.y <= 6 && ['a', 'b'].includes(p.kind), JSON.stringify(p));
    }
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 20, 'each trial ran once');
    // Trials are tasks of the run: nodes with their params, attempts and tracking runs.
    const nodes = (await platform.store.getNodes(r.runId)).filter((n) => n.spec.parent === 'tune.quadratic-study');
    assert.equal(nodes.length, 20);
    const tracked = (await platform.store.searchRuns({ filter: `attributes.run_id like '${r.runId}/%' and params.kind = 'a'` })).runs;
    assert.equal(tracked.length, out.trials.filter((t) => (t.params as { kind: string }).kind === 'a').length, 'each trial is a tracking run with its params');
    // At most `parallelism` trials ran at once.
    const attempts = (await Promise.all(nodes.map((n) => platform.store.getAttempts(r.runId, n.id)))).flat();
    const spans = attempts.map((a) => [a.startedAt, a.endedAt ?? a.startedAt] as const);
    const overlap = Math.max(...spans.map(([s]) => spans.filter(([s2, e2]) => s2 <= s && e2 > s).length));
    assert.ok(overlap <= 3, `at most 3 trials overlapped (saw ${overlap})`);
  } finally {
    await dispose();
  }
});

test('a parallel study is reproducible from its seed whatever the timing, and a second run is answered by the cache', async () => {
  // Different executors finish trials in different orders; trial k still sees exactly trials 0..k−parallelism.
  const a = await tempPlatform({ executor: 'inline' });
  const b = await tempPlatform({ executor: 'threads' });
  try {
    const ra = await a.platform.run(quadFlow, { trials: 16, parallelism: 3, seed: 5 });
    const rb = await b.platform.run(quadFlow, { trials: 16, parallelism: 3, seed: 5 });
    const oa = await outputOf<Quad>(a.platform, ra.runId);
    const ob = await outputOf<Quad>(b.platform, rb.runId);
    assert.deepEqual(oa.trials.map((t) => t.params), ob.trials.map((t) => t.params), 'same seed, same trials');
    const rc = await b.platform.run(quadFlow, { trials: 16, parallelism: 3, seed: 6 });
    const oc = await outputOf<Quad>(b.platform, rc.runId);
    assert.notDeepEqual(oc.trials.map((t) => t.params), ob.trials.map((t) => t.params), 'another seed, other trials');
    const again = await b.platform.run(quadFlow, { trials: 16, parallelism: 3, seed: 5 });
    const nodes = (await b.platform.store.getNodes(again.runId)).filter((n) => n.spec.trial !== undefined);
    assert.equal(nodes.length, 16);
    assert.ok(nodes.every((n) => n.cachedFrom), 'every trial of the repeated study came from the cache');
    assert.deepEqual((await outputOf<Quad>(b.platform, again.runId)).best, ob.best);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});

test('a grid study stops when the grid is exhausted, each point once', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(quadFlow, { trials: 100, parallelism: 4, sampler: 'grid' });
    const out = await outputOf<Quad>(platform, r.runId);
    assert.equal(out.trials.length, 2 * 7 * 2, 'x has 2 points, y 7, kind 2');
    assert.equal(new Set(out.trials.map((t) => JSON.stringify(t.params))).size, out.trials.length);
    assert.equal(out.best.value, 9 + 0 + 1, 'the best grid point: x = 5 (loss 9; x = −5 gives 49), y = 3, kind a');
  } finally {
    await dispose();
  }
});

test('the median pruner stops bad trials from what they report with ctx.report', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const log = join(dir, 'epochs.log');
    const r = await platform.run(pruneFlow, { log });
    assert.equal(r.status, 'succeeded', r.error);
    const out = await outputOf<StudyResult<{ lr: number }, number>>(platform, r.runId);
    assert.ok(out.counts.pruned >= 5, `several trials were pruned (${JSON.stringify(out.counts)})`);
    assert.equal(out.counts.complete + out.counts.pruned, 24);
    for (const t of out.trials.filter((x) => x.state === 'pruned')) {
      assert.ok(t.intermediate.length < 8, 'a pruned trial stopped before its last epoch');
      assert.equal(t.value, t.intermediate.at(-1)![1], "a pruned trial's value is its last report");
    }
    const epochsRun = readFileSync(log, 'utf8').trim().split('\n').length;
    assert.ok(epochsRun < 24 * 8 * 0.8, `pruning saved epochs (${epochsRun} of ${24 * 8})`);
    assert.ok(Math.abs(Math.log10(out.best.params.lr) + 2) < 0.5, `the best lr is near 0.01 (${out.best.params.lr})`);
    // Reports are tracking metrics of the trial's run.
    const first = out.trials[0]!;
    const run = (await platform.store.searchRuns({ filter: `attributes.run_id = '${r.runId}/${first.nodeId}/1'` })).runs[0];
    assert.ok(run, 'the trial is a tracking run');
    const history = await platform.store.getMetricHistory(run.id, 'objective');
    assert.deepEqual(history.values.slice(0, first.intermediate.length), first.intermediate.map(([, v]) => v));
  } finally {
    await dispose();
  }
});

test('successive halving (ASHA) promotes only the top third of the trials past each rung', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(pruneFlow, { pruner: 'asha' });
    assert.equal(r.status, 'succeeded', r.error);
    const out = await outputOf<StudyResult<{ lr: number }, number>>(platform, r.runId);
    assert.ok(out.counts.pruned >= 8, `most trials stop at a rung (${JSON.stringify(out.counts)})`);
    const stoppedAt = out.trials.filter((t) => t.state === 'pruned').map((t) => t.intermediate.at(-1)![0]);
    // Rungs end at steps 1, 3 (minResource 1, η = 3): a pruned trial stops at the first report at or past a rung.
    assert.ok(stoppedAt.every((s) => s === 1 || s === 3), `pruned at rung ends only: ${stoppedAt.join(', ')}`);
    assert.ok(Math.abs(Math.log10(out.best.params.lr) + 2) < 0.7, `the best lr is near 0.01 (${out.best.params.lr})`);
  } finally {
    await dispose();
  }
});

test('a cancelled study shows its interrupted trials as cancelled, and resuming finishes it', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const file = new URL('./fixtures/tune-flows.ts', import.meta.url).pathname;
    const log = join(dir, 'log');
    writeFileSync(`${log}.hold`, ''); // started trials wait until this file goes: they are in flight when cancelled
    const { runId, graph } = await platform.startRun(slowFlow, { log }, { file });
    const stop = new AbortController();
    const driven = platform.drive(runId, slowFlow, graph, { signal: stop.signal });
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('start '), 'a trial started');
    stop.abort();
    assert.equal((await driven).status, 'cancelled');
    rmSync(`${log}.hold`);
    const interrupted = await readStudy(platform.store, platform.artifacts, runId);
    assert.equal(interrupted.state, 'cancelled');
    assert.ok(interrupted.counts.cancelled >= 1, JSON.stringify(interrupted.counts));
    assert.equal(interrupted.counts.failed, 0, 'a cancelled trial is not a failed one');
    assert.equal((await platform.resume(runId)).status, 'succeeded');
    const done = await readStudy(platform.store, platform.artifacts, runId);
    assert.equal(done.trials.length, 60);
    assert.equal(done.counts.cancelled, 0);
    assert.equal(done.counts.complete + done.counts.pruned, 60);
  } finally {
    await dispose();
  }
});

test('failed trials are recorded and the study goes on; a study with no completed trial fails with the first error', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(fragileFlow, {});
    assert.equal(r.status, 'succeeded', 'failed trials do not fail the run');
    const out = await outputOf<StudyResult<{ a: number }, number>>(platform, r.runId);
    assert.deepEqual(out.counts, { complete: 5, pruned: 0, failed: 5 });
    assert.equal(out.best.value, 8);
    for (const t of out.trials.filter((x) => x.state === 'failed')) assert.match(t.error!, /odd a=\d is not supported/);
    const bad = await platform.run(fragileFlow, { always: true });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!, /none of its 10 trials completed \(0 pruned, 10 failed\); first failure: .*not supported/);
  } finally {
    await dispose();
  }
});
