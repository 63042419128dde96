// Tracking inside workflows: each workflow run is a tracking run, each task attempt a nested one holding what the
// task logged with ctx.log, its input scalars as params and its system metrics, committed with the attempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempPlatform } from './support/platform.ts';
import { trainFlow } from './fixtures/tracking-flows.ts';
import { badFlow, fitFlow } from './fixtures/tracking-artifacts.ts';

for (const executor of ['inline', 'threads'] as const) {
  test(`[${executor}] task attempts are nested tracking runs with logged and automatic params and metrics`, async () => {
    const { platform, dispose } = await tempPlatform({ executor, workers: 2 });
    try {
      const r = await platform.run(trainFlow, { lrs: [0.01, 0.1] });
      assert.equal(r.status, 'succeeded');
      const wf = await platform.store.getTrackingRun(r.runId);
      assert.deepEqual([wf?.experiment, wf?.status, wf?.workflowRunId], ['tr-flow', 'succeeded', r.runId]);
      assert.ok(wf?.endTime);
      const page = await platform.store.searchRuns({ filter: `attributes.run_id like '${r.runId}/%' and metrics.auc > 0.85`, experiments: ['tr-flow'] });
      assert.equal(page.runs.length, 1);
      const a = await platform.store.getTrackingRun(page.runs[0]!.id);
      assert.equal(a?.parentId, r.runId);
      assert.equal(a?.attempt, 1);
      assert.equal(a?.status, 'succeeded');
      assert.deepEqual(a?.params, { deep: 'true', lr: '0.01', model: 'rf', optimizer: 'sgd' });
      assert.deepEqual(a?.tags, { family: 'rf' });
      assert.equal(a?.metrics.loss?.step, 4);
      assert.ok(a?.metrics.duration_ms && a.metrics.duration_ms.value >= 0);
      if (executor === 'threads') assert.ok(a?.metrics.cpu_ms !== undefined);
      assert.equal((await platform.store.getMetricHistory(a!.id, 'loss')).total, 5);
    } finally {
      await dispose();
    }
  });
}

test('a failed attempt is a failed tracking run that keeps what it logged; the workflow run fails', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(trainFlow, { lrs: [2] });
    assert.equal(r.status, 'failed');
    assert.equal((await platform.store.getTrackingRun(r.runId))?.status, 'failed');
    const runs = (await platform.store.searchRuns({ filter: `attributes.run_id like '${r.runId}/%'` })).runs;
    assert.ok(runs.length >= 1);
    const a = await platform.store.getTrackingRun(runs[0]!.id);
    assert.equal(a?.status, 'failed');
    assert.equal(a?.metrics.loss?.step, 4);
  } finally {
    await dispose();
  }
});

for (const executor of ['inline', 'processes'] as const) {
  test(`[${executor}] ctx.log.artifact attaches handles to the attempt's tracking run and records them as its lineage`, async () => {
    const { platform, dispose } = await tempPlatform({ executor, workers: 1 });
    try {
      const r = await platform.run(fitFlow, { text: 'abc', fail: false });
      assert.equal(r.status, 'succeeded', JSON.stringify(r));
      const page = await platform.store.searchRuns({ filter: `attributes.run_id like '${r.runId}/%'` });
      assert.equal(page.runs.length, 1, 'only the task that logged is a tracking run');
      const run = await platform.store.getTrackingRun(page.runs[0]!.id);
      assert.deepEqual(Object.keys(run?.artifacts ?? {}), ['model', 'plots', 'summary', 'training-data']);
      const { model, plots, summary } = run!.artifacts;
      assert.equal(JSON.parse((r.output as { json: string }).json), model?.handle.sha256, 'the handle of the model the task stored');
      assert.equal((await platform.artifacts.read(model!.handle.sha256)).toString(), 'model of abc');
      assert.deepEqual([plots?.handle.$artifact, plots?.handle.$artifact === 'dir' ? plots.handle.files : 0], ['dir', 2]);
      assert.ok(summary && 'dataset' in summary.handle);
      assert.equal(summary.handle.dataset.version, 1, 'the dataset version registered with the attempt');
      const lineage = await platform.store.getLineage(r.runId, run!.nodeId);
      const dir = (sha: string) => lineage.filter((l) => l.sha256 === sha).map((l) => l.direction).sort();
      assert.deepEqual(dir(model!.handle.sha256), ['write']);
      assert.deepEqual(dir(plots!.handle.sha256), ['write']);
      assert.deepEqual(dir(run!.artifacts['training-data']!.handle.sha256), ['read'], 'an input logged as an artifact stays a read');
    } finally {
      await dispose();
    }
  });
}

test('a failed attempt keeps the artifacts it logged; a bad handle fails the task with a message naming the call', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(fitFlow, { text: 'x', fail: true });
    assert.equal(r.status, 'failed');
    const [a] = (await platform.store.searchRuns({ filter: `attributes.run_id like '${r.runId}/%'` })).runs;
    const run = await platform.store.getTrackingRun(a!.id);
    assert.equal(run?.status, 'failed');
    assert.ok(run?.artifacts.model, 'the model logged before the failure is kept');
    assert.deepEqual((await platform.store.getLineage(r.runId, run!.nodeId)).filter((l) => l.sha256 === run!.artifacts.model!.handle.sha256).map((l) => l.direction), ['write']);
    const bad = await platform.run(badFlow, {});
    assert.equal(bad.status, 'failed');
    const [attempt] = await platform.store.getAttempts(bad.runId);
    assert.match(attempt?.error ?? '', /ctx\.log\.artifact\("oops", …\) needs a file, directory or dataset handle/);
  } finally {
    await dispose();
  }
});
