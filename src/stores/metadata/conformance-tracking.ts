/**
 * Conformance tests for experiment tracking (part of the MetadataStore suite, run on every adapter): tracking runs
 * and experiments, batches of params/tags/metrics with the latest value maintained per key, search with AND/OR/NOT
 * and order-by and paging, numeric params, run details, logged artifacts with their lineage, downsampled metric
 * history, and attempt runs fenced by their finish.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataStore } from '../../ports/metadata.ts';
import type { ArtifactHandle, TrackingRunRecord } from '../../ports/tracking.ts';
import { RECOMMENDED_INDEXES } from './sql/search.ts';
import type { ConformanceTarget } from './conformance.ts';
import { DIALECT_WORDS, MIGRATIONS } from './sql/schema.ts';

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
  test(`[${name}] tracking: the migrations create the search's recommended indexes`, () => {
    for (const words of Object.values(DIALECT_WORDS)) {
      const sql = MIGRATIONS.flatMap((m) => m.sql(words));
      for (const idx of RECOMMENDED_INDEXES) assert.ok(sql.includes(idx), idx);
    }
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
        artifacts: {},
      });
      const h = await store.getMetricHistory('tr-1', 'loss');
      assert.deepEqual([h.total, h.steps, h.values], [3, [0, 1, 2], [9, 3, 2]]);
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch: { runId: 'nope', params: { a: '1' } } }]), [false], 'unknown run: nothing logged');
      // A diverging loss: NaN points are dropped (never failing the batch), infinities kept and searchable.
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch: { runId: 'tr-1', params: { x: '1' }, metrics: [{ key: 'loss', value: Number.NaN, step: 7, ts: 7 }, { key: 'grad', value: Infinity, step: 7, ts: 7 }, { key: 'nan_only', value: Number.NaN, step: 1, ts: 7 }] } }]), [true]);
      const after = await store.getTrackingRun('tr-1');
      assert.deepEqual([after?.params.x, after?.metrics.loss, after?.metrics.grad?.value, after?.metrics.nan_only], ['1', { value: 2, step: 2, ts: 2 }, Infinity, undefined]);
      assert.deepEqual((await store.getMetricHistory('tr-1', 'loss')).total, 3);
      assert.deepEqual(await ids(store, 'metrics.grad > 1e308 and not metrics.loss > 2'), ['tr-1']);
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
  test(`[${name}] tracking: numeric param filters compare the number the text holds, never other text`, () =>
    withStore(async ({ store }) => {
      const depths = ['6', '6.0', '1e1', '1E+1', '06', '+6', ' 6', '6.', 'six', '-3', '1e400', '-1e400', '1e-400', '0.5', '12345678901234567890'];
      await store.apply(depths.flatMap((depth, i) => [
        { type: 'startTrackingRun' as const, run: { id: `n${String(i).padStart(2, '0')}`, experiment: 'num', status: 'running' as const, startTime: i } },
        { type: 'logTracking' as const, batch: { runId: `n${String(i).padStart(2, '0')}`, params: { depth }, tags: { depth } } },
      ]));
      const values = async (filter: string) => {
        const page = await store.searchRuns({ filter, orderBy: 'attributes.run_id', limit: 100 });
        return page.runs.map((r) => depths[Number(r.id.slice(1))]);
      };
      assert.deepEqual(await values('params.depth = 6'), ['6', '6.0']);
      assert.deepEqual(await values('params.depth >= 10'), ['1e1', '1E+1', '1e400', '12345678901234567890']);
      assert.deepEqual(await values('params.depth < 0'), ['-3', '-1e400']);
      assert.deepEqual(await values('params.depth in (0, 0.5)'), ['1e-400', '0.5']);
      assert.deepEqual(await values('params.depth != 6 and params.depth < 1'), ['-3', '-1e400', '1e-400', '0.5']);
      assert.deepEqual(await values("params.depth = '06' or params.depth = ' 6'"), ['06', ' 6']);
      assert.deepEqual(await values('tags.depth > 1e300'), ['1e400'], 'tags compare their numeric copy too');
      // A later value replaces the number as well as the text.
      await store.apply([{ type: 'logTracking', batch: { runId: 'n08', params: { depth: '7' } } }]);
      assert.deepEqual(await ids(store, 'params.depth = 7'), ['n08']);
      assert.deepEqual(await ids(store, 'params.depth > 5 and params.depth < 6.5', { orderBy: 'attributes.run_id' }), ['n00', 'n01']);
      assert.deepEqual(await ids(store, 'tags.depth = 7'), [], 'the tag kept its own value');
    }));

  test(`[${name}] tracking: artifacts attach to a run by name, and a dataset shows the version its attempt registered`, () =>
    withStore(async ({ store }) => {
      await start(store, { id: 'art', experiment: 'e', status: 'running', startTime: 1 });
      const file: ArtifactHandle = { $artifact: 'file', sha256: 'a'.repeat(64), size: 10, name: 'model.bin' };
      const dir: ArtifactHandle = { $artifact: 'dir', sha256: 'b'.repeat(64), size: 30, name: 'plots', files: 3 };
      const data: ArtifactHandle = { $artifact: 'file', sha256: 'c'.repeat(64), size: 99, name: 'clean.csv', format: 'csv', dataset: { name: 'clean', schema: [], rows: 5 } };
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch: { runId: 'art', artifacts: [{ name: 'model', handle: { ...file, sha256: '0'.repeat(64) }, loggedAt: 5 }, { name: 'plots', handle: dir, loggedAt: 6 }, { name: 'model', handle: file, loggedAt: 7 }] } }]), [true]);
      await store.apply([{ type: 'logTracking', batch: { runId: 'art', artifacts: [{ name: 'data', handle: data, loggedAt: 8 }] } }]);
      let run = await store.getTrackingRun('art');
      assert.deepEqual(run?.artifacts, { data: { handle: data, loggedAt: 8 }, model: { handle: file, loggedAt: 7 }, plots: { handle: dir, loggedAt: 6 } });
      await store.apply([{ type: 'putDatasetVersion', version: { name: 'clean', sha256: 'c'.repeat(64), format: 'csv', size: 99, rows: 5, schema: [], createdAt: 9 } }]);
      run = await store.getTrackingRun('art');
      assert.equal(run?.artifacts.data?.handle && 'dataset' in run.artifacts.data.handle ? run.artifacts.data.handle.dataset.version : undefined, 1);
      assert.deepEqual(await store.getLineage('art'), [], 'a run outside a workflow adds no lineage');
      assert.deepEqual(await store.apply([{ type: 'logTracking', batch: { runId: 'nope', artifacts: [{ name: 'x', handle: file, loggedAt: 1 }] } }]), [false]);
    }));

  test(`[${name}] tracking: an attempt's artifacts enter its lineage in the commit of its finish, and only if it committed`, () =>
    withStore(async ({ store }) => {
      const run = { id: 'wf-a', workflow: 'wf', status: 'running' as const, file: '', params: {}, options: {}, outputBinding: { ref: 'b' }, cancelRequested: false, createdAt: 1 };
      const node = { runId: 'wf-a', id: 'n', seq: 0, spec: { id: 'n', kind: 'task' as const, task: 't', input: { lit: {} } }, state: 'pending' as const, attempts: 0, retryBase: 0 };
      await store.apply([{ type: 'insertRun', run }, { type: 'insertNodes', nodes: [node] }, { type: 'startTrackingRun', run: { id: 'wf-a', experiment: 'wf', status: 'running', startTime: 1 } }]);
      await store.apply([{ type: 'claim', runId: 'wf-a', nodeId: 'n', attempt: 1, owner: 'e1', leaseUntil: 10_000, now: 5, deadOwners: [], executor: 'inline' }]);
      const made: ArtifactHandle = { $artifact: 'file', sha256: 'd'.repeat(64), size: 1, name: 'm' };
      const given: ArtifactHandle = { $artifact: 'file', sha256: 'e'.repeat(64), size: 1, name: 'in' };
      const commit = (owner: string) => store.apply([
        { type: 'finish', runId: 'wf-a', nodeId: 'n', attempt: 1, owner, nodeState: 'succeeded', attemptState: 'succeeded', at: 9 },
        { type: 'startTrackingRun', run: { id: 'wf-a/n/1', experiment: 'wf', status: 'succeeded', startTime: 5, endTime: 9, parentId: 'wf-a', workflowRunId: 'wf-a', nodeId: 'n', attempt: 1 }, ifAttempt: { runId: 'wf-a', nodeId: 'n', attempt: 1 } },
        { type: 'logTracking', batch: { runId: 'wf-a/n/1', artifacts: [{ name: 'model', handle: made, loggedAt: 8 }, { name: 'input', handle: given, loggedAt: 8, lineage: 'read' }] } },
      ]);
      assert.deepEqual(await commit('other'), [false, false, false]);
      assert.deepEqual(await store.getLineage('wf-a'), [], 'a fenced-out attempt records nothing');
      assert.deepEqual(await commit('e1'), [true, true, true]);
      const lineage = (await store.getLineage('wf-a', 'n')).map((l) => [l.sha256[0], l.direction, l.attempt]).sort();
      assert.deepEqual(lineage, [['d', 'write', 1], ['e', 'read', 1]]);
      assert.deepEqual(Object.keys((await store.getTrackingRun('wf-a/n/1'))?.artifacts ?? {}), ['input', 'model']);
    }));
}
