/**
 * Conformance tests for experiment tracking (part of the MetadataStore suite, run on every adapter): tracking runs
 * and experiments, batches of params/tags/metrics with the latest value maintained per key, search with AND/OR/NOT
 * and order-by and paging, run details, downsampled metric history, and attempt runs fenced by their finish.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataStore } from '../../ports/metadata.ts';
import type { TrackingRunRecord } from '../../ports/tracking.ts';
import { RECOMMENDED_INDEXES } from '../../tracking/search/sql.ts';
import type { ConformanceTarget } from './conformance.ts';
import { MIGRATIONS } from './sql/schema.ts';

const start = (store: MetadataStore, run: TrackingRunRecord) => store.apply([{ type: 'startTrackingRun', run }]);

async function seed(store: MetadataStore): Promise<void> {
  const runs: [string, string, Record<string, string>, Record<string, number>][] = [
    ['r1', 'exp-a', { model: 'rf', depth: '4' }, { auc: 0.91 }],
    ['r2', 'exp-a', { model: 'lr', depth: '8' }, { auc: 0.85 }],
    ['r3', 'exp-a', { model: 'gb', depth: '6' }, { auc: 0.7 }],
    ['r4', 'exp-b', { model: 'rf', depth: '2' }, { auc: 0.75 }],
    ['r5', 'exp-b', { model: 'lr' }, {}],
  ];
  let t = 1_000;
  for (const [id, experiment, params, metrics] of runs) {
    assert.deepEqual(await start(store, { id, experiment, name: `name-${id}`, status: 'running', startTime: t++ }), [true]);
    await store.apply([{ type: 'logTracking', batch: { runId: id, params, tags: { owner: id === 'r1' ? 'ann' : 'bob' }, metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, ts: t })) } }]);
  }
}

const ids = async (store: MetadataStore, filter: string, more: { orderBy?: string; experiments?: string[] } = {}) => (await store.searchRuns({ filter, ...more })).runs.map((r) => r.id);

export function trackingConformance(name: string, withStore: (fn: (t: ConformanceTarget) => Promise<void>) => Promise<void>): void {
  test(`[${name}] tracking: migration 3 creates the search's recommended indexes`, () => {
    const sql = MIGRATIONS.find((m) => m.version === 3)!.sql({ serial: '', bigint: '', clustered: '' });
    for (const idx of RECOMMENDED_INDEXES) assert.ok(sql.includes(idx), idx);
  });

  test(`[${name}] tracking: batches upsert params and tags, append history and keep the highest step as latest`, () =>
    withStore(async ({ store }) => {
      await start(store, { id: 'tr-1', experiment: 'e', status: 'running', startTime: 10 });
      assert.deepEqual(await start(store, { id: 'tr-1', experiment: 'e', status: 'running', startTime: 10 }), [false], 'idempotent');
      const batch = { runId: 'tr-1', params: { lr: '0.1', model: 'rf' }, tags: { team: 'x' }, metrics: [{ key: 'loss', value: 3, step: 1, ts: 1 }, { key: 'loss', value: 2, step: 2, ts: 2 }, { key: 'acc', value: 0.5, step: 1, ts: 1 }] };
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch }]), [true]);
      await store.apply([{ type: 'logTracking', batch }]); // a retried flush stores nothing twice
      await store.apply([{ type: 'logTracking', batch: { runId: 'tr-1', params: { lr: '0.2' }, metrics: [{ key: 'loss', value: 9, step: 0, ts: 5 }, { key: 'acc', value: 0.7, step: 3, ts: 6 }] } }]);
      await store.apply([{ type: 'endTrackingRun', runId: 'tr-1', status: 'succeeded', endTime: 50 }]);
      const run = await store.getTrackingRun('tr-1');
      assert.deepEqual(run, {
        id: 'tr-1', experiment: 'e', status: 'succeeded', startTime: 10, endTime: 50,
        params: { lr: '0.2', model: 'rf' }, tags: { team: 'x' },
        metrics: { acc: { value: 0.7, step: 3, ts: 6 }, loss: { value: 2, step: 2, ts: 2 } },
      });
      const h = await store.getMetricHistory('tr-1', 'loss');
      assert.deepEqual([h.total, h.steps, h.values], [3, [0, 1, 2], [9, 3, 2]]);
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch: { runId: 'nope', params: { a: '1' } } }]), [false], 'unknown run: nothing logged');
      assert.equal(await store.getTrackingRun('nope'), undefined);
    }));

  test(`[${name}] tracking: search with AND, OR, NOT, order-by, experiments and paging`, () =>
    withStore(async ({ store }) => {
      await seed(store);
      assert.deepEqual(await ids(store, `metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)`, { orderBy: 'attributes.run_id' }), ['r1', 'r2']);
      assert.deepEqual(await ids(store, `params.model = 'rf' or metrics.auc < 0.72`, { orderBy: 'metrics.auc desc' }), ['r1', 'r4', 'r3']);
      assert.deepEqual(await ids(store, `not (params.model = 'rf') and not (tags.owner = 'ann')`, { orderBy: 'attributes.run_id' }), ['r2', 'r3', 'r5']);
      assert.deepEqual(await ids(store, `metrics.auc is null`), ['r5']);
      assert.deepEqual(await ids(store, '', { orderBy: 'metrics.auc', experiments: ['exp-b'] }), ['r4', 'r5']);
      const p1 = await store.searchRuns({ orderBy: 'attributes.start_time desc', limit: 2 });
      assert.deepEqual(p1.runs.map((r) => r.id), ['r5', 'r4']);
      assert.equal(p1.runs[0]!.name, 'name-r5');
      const p2 = await store.searchRuns({ orderBy: 'attributes.start_time desc', limit: 2, pageToken: p1.nextPageToken! });
      const p3 = await store.searchRuns({ orderBy: 'attributes.start_time desc', limit: 2, pageToken: p2.nextPageToken! });
      assert.deepEqual([...p2.runs, ...p3.runs].map((r) => r.id), ['r3', 'r2', 'r1']);
      assert.equal(p3.nextPageToken, undefined);
      await assert.rejects(store.searchRuns({ filter: 'metrics.auc >' }), /filter/i);
    }));

  test(`[${name}] tracking: metric history is downsampled with lttb or min/max`, () =>
    withStore(async ({ store }) => {
      await start(store, { id: 'h', experiment: 'e', status: 'running', startTime: 1 });
      const metrics = Array.from({ length: 5_000 }, (_, i) => ({ key: 'loss', value: i === 1234 ? 100 : Math.sin(i / 100), step: i, ts: i }));
      await store.apply([{ type: 'logTracking', batch: { runId: 'h', metrics } }]);
      const l = await store.getMetricHistory('h', 'loss', { maxPoints: 100 });
      assert.equal(l.total, 5_000);
      assert.equal(l.steps.length, 100);
      assert.deepEqual([l.steps[0], l.steps[99]], [0, 4_999]);
      const m = await store.getMetricHistory('h', 'loss', { maxPoints: 100, method: 'minmax' });
      assert.ok(m.steps.length <= 100);
      assert.ok(m.values.includes(100), 'min/max keeps the spike');
      assert.deepEqual((await store.getTrackingRun('h'))?.metrics.loss, { value: Math.sin(4_999 / 100), step: 4_999, ts: 4_999 });
    }));

  test(`[${name}] tracking: a long history is answered from tiles and keeps every extreme`, () =>
    withStore(async ({ store }) => {
      await start(store, { id: 'long', experiment: 'e', status: 'running', startTime: 1 });
      const n = 60_000;
      const value = (i: number) => (i === 31_337 ? -50 : i === 45_000 ? 75 : Math.sin(i / 500));
      for (let i = 0; i < n; i += 20_000) {
        const metrics = Array.from({ length: 20_000 }, (_, k) => ({ key: 'acc', value: value(i + k), step: i + k, ts: i + k }));
        await store.apply([{ type: 'logTracking', batch: { runId: 'long', metrics } }]);
      }
      for (const method of ['lttb', 'minmax'] as const) {
        const h = await store.getMetricHistory('long', 'acc', { maxPoints: 200, method });
        assert.equal(h.total, n);
        assert.ok(h.steps.length <= 200 && h.steps.length >= 150, `${method}: ${h.steps.length} points`);
        assert.ok(h.steps.every((s, i) => i === 0 || s > h.steps[i - 1]!), 'steps ascend');
        assert.ok(h.values.includes(-50) && h.values.includes(75), `${method} keeps both spikes`);
        assert.equal(h.steps[h.values.indexOf(-50)], 31_337);
      }
    }));

  test(`[${name}] tracking: an attempt's tracking run is created only if its finish committed`, () =>
    withStore(async ({ store }) => {
      const run = { id: 'wf-1', workflow: 'wf', status: 'running' as const, file: '', params: {}, options: {}, outputBinding: { ref: 'b' }, cancelRequested: false, createdAt: 1 };
      const node = { runId: 'wf-1', id: 'n', seq: 0, spec: { id: 'n', kind: 'task' as const, task: 't', input: { lit: {} } }, state: 'pending' as const, attempts: 0, retryBase: 0 };
      await store.apply([{ type: 'insertRun', run }, { type: 'insertNodes', nodes: [node] }, { type: 'startTrackingRun', run: { id: 'wf-1', experiment: 'wf', status: 'running', startTime: 1 } }]);
      await store.apply([{ type: 'claim', runId: 'wf-1', nodeId: 'n', attempt: 1, owner: 'e1', leaseUntil: 10_000, now: 5, deadOwners: [], executor: 'inline' }]);
      const attemptRun = (attempt: number): TrackingRunRecord => ({ id: `wf-1/n/${attempt}`, experiment: 'wf', status: 'succeeded', startTime: 5, endTime: 9, parentId: 'wf-1', workflowRunId: 'wf-1', nodeId: 'n', attempt });
      const finish = (owner: string) => ({ type: 'finish' as const, runId: 'wf-1', nodeId: 'n', attempt: 1, owner, nodeState: 'succeeded' as const, attemptState: 'succeeded' as const, at: 9 });
      const fenced = await store.apply([finish('other'), { type: 'startTrackingRun', run: attemptRun(1), ifAttempt: { runId: 'wf-1', nodeId: 'n', attempt: 1 } }, { type: 'logTracking', batch: { runId: 'wf-1/n/1', params: { a: '1' } } }]);
      assert.deepEqual(fenced, [false, false, false]);
      const ok = await store.apply([finish('e1'), { type: 'startTrackingRun', run: attemptRun(1), ifAttempt: { runId: 'wf-1', nodeId: 'n', attempt: 1 } }, { type: 'logTracking', batch: { runId: 'wf-1/n/1', params: { a: '1' } } }]);
      assert.deepEqual(ok, [true, true, true]);
      const got = await store.getTrackingRun('wf-1/n/1');
      assert.deepEqual([got?.parentId, got?.workflowRunId, got?.nodeId, got?.attempt, got?.params], ['wf-1', 'wf-1', 'n', 1, { a: '1' }]);
    }));
}
