// Tracking inside workflows: each workflow run is a tracking run, each task attempt a nested one holding what the
// task logged with ctx.log, its input scalars as params and its system metrics, committed with the attempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempPlatform } from './support/platform.ts';
import { trainFlow } from './fixtures/tracking-flows.ts';

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
