/**
 * The MetadataStore conformance suite: every adapter (SQLite, PostgreSQL) must pass these same tests. They cover
 * the contracts the engine relies on — conditional claims that never double-dispatch, fenced finishes that commit
 * a result once, atomic batches, ordered events and logs, the cache and lineage.
 *
 * Usage (see test/metadata-conformance.test.ts): `metadataConformance('sqlite', async () => ({ store, open, dispose }))`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataStore, Mutation, NodeRecord, RunRecord } from '../../ports/metadata.ts';
import { datasetConformance } from './conformance-datasets.ts';
import { registryConformance } from './conformance-registry.ts';
import { trackingConformance } from './conformance-tracking.ts';

export interface ConformanceTarget {
  store: MetadataStore;
  /** Opens another connection/instance on the same database (for concurrency tests). */
  open(): Promise<MetadataStore>;
  dispose(): Promise<void>;
}

let seq = 0;
const rid = (): string => `run-${Date.now().toString(36)}-${(seq++).toString(36)}`;

function runRecord(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return { id, workflow: 'wf', status: 'running', file: '/x/wf.ts', params: { a: 1 }, options: {}, outputBinding: { ref: 'b' }, cancelRequested: false, createdAt: 1_000 + seq, ...over };
}

function nodes(runId: string, ids: string[]): NodeRecord[] {
  return ids.map((id, i) => ({ runId, id, seq: i, spec: { id, kind: 'task', task: 't', input: { lit: { i } } }, state: 'pending', attempts: 0, retryBase: 0 }));
}

const claim = (runId: string, nodeId: string, attempt: number, owner: string, over: Partial<Extract<Mutation, { type: 'claim' }>> = {}): Mutation => ({
  type: 'claim', runId, nodeId, attempt, owner, leaseUntil: 10_000, now: 5_000, deadOwners: [], executor: 'inline', ...over,
});

export function metadataConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  const withStore = async (fn: (t: ConformanceTarget) => Promise<void>) => {
    const t = await setup();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  test(`[${name}] migrate is idempotent`, () =>
    withStore(async ({ store }) => {
      await store.migrate();
      await store.migrate();
      assert.deepEqual(await store.listRuns(), []);
    }));

  test(`[${name}] stores and lists runs with filters, newest first, and resolves id prefixes`, () =>
    withStore(async ({ store }) => {
      await store.apply([
        { type: 'insertRun', run: runRecord('aaa-1', { createdAt: 1, workflow: 'x' }) },
        { type: 'insertRun', run: runRecord('aaa-2', { createdAt: 2, workflow: 'y', status: 'failed' }) },
        { type: 'insertRun', run: runRecord('bbb-3', { createdAt: 3, workflow: 'x' }) },
      ]);
      assert.deepEqual((await store.listRuns()).map((r) => r.id), ['bbb-3', 'aaa-2', 'aaa-1']);
      assert.deepEqual((await store.listRuns({ workflow: 'x' })).map((r) => r.id), ['bbb-3', 'aaa-1']);
      assert.deepEqual((await store.listRuns({ status: 'failed' })).map((r) => r.id), ['aaa-2']);
      assert.deepEqual((await store.listRuns({ limit: 1, before: 3 })).map((r) => r.id), ['aaa-2']);
      assert.deepEqual(await store.findRunIds('bbb'), ['bbb-3']);
      assert.equal((await store.findRunIds('aaa')).length, 2);
      const r = await store.getRun('aaa-1');
      assert.deepEqual(r?.params, { a: 1 });
      assert.deepEqual(r?.outputBinding, { ref: 'b' });
      assert.equal(r?.cancelRequested, false);
      await store.apply([{ type: 'updateRun', runId: 'aaa-1', status: 'succeeded', output: { json: '5', hash: 'h' }, endedAt: 9, cancelRequested: true }]);
      const u = await store.getRun('aaa-1');
      assert.equal(u?.status, 'succeeded');
      assert.deepEqual(u?.output, { json: '5', hash: 'h' });
      assert.equal(u?.endedAt, 9);
      assert.equal(u?.cancelRequested, true);
      assert.equal(await store.getRun('nope'), undefined);
    }));

  test(`[${name}] a batch is atomic: one failing mutation rolls back the others`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }]);
      await assert.rejects(store.apply([{ type: 'insertNodes', nodes: nodes(id, ['x']) }, { type: 'insertRun', run: runRecord(id) }]));
      assert.deepEqual(await store.getNodes(id), []);
    }));

  test(`[${name}] a node is claimed once: a second claim of the same attempt, or a stale one, fails`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a', 'b']) }]);
      assert.deepEqual(await store.apply([claim(id, 'a', 1, 'e1'), claim(id, 'a', 1, 'e2')]), [true, false]);
      assert.deepEqual(await store.apply([claim(id, 'b', 2, 'e1')]), [false], 'attempt count must match');
      const a = await store.getNode(id, 'a');
      assert.equal(a?.state, 'running');
      assert.equal(a?.leaseOwner, 'e1');
      assert.equal(a?.attempts, 1);
      const attempts = await store.getAttempts(id, 'a');
      assert.deepEqual(attempts.map((x) => [x.attempt, x.state, x.owner]), [[1, 'running', 'e1']]);
    }));

  test(`[${name}] a claim waits for its dependencies to have succeeded in the store`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['up', 'down']) }]);
      assert.deepEqual(await store.apply([claim(id, 'down', 1, 'e1', { deps: ['up'] })]), [false]);
      await store.apply([claim(id, 'up', 1, 'e1')]);
      await store.apply([{ type: 'finish', runId: id, nodeId: 'up', attempt: 1, owner: 'e1', nodeState: 'succeeded', attemptState: 'succeeded', at: 6_000, output: { json: '1', hash: 'h1' } }]);
      assert.deepEqual(await store.apply([claim(id, 'down', 1, 'e1', { deps: ['up'] })]), [true]);
    }));

  test(`[${name}] a finish is fenced: only the attempt holding the node commits its result`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a']) }]);
      await store.apply([claim(id, 'a', 1, 'e1')]);
      // e1's lease expires; e2 takes over with attempt 2.
      assert.deepEqual(await store.apply([claim(id, 'a', 2, 'e2', { now: 20_000, leaseUntil: 50_000 })]), [true]);
      const late = await store.apply([{ type: 'finish', runId: id, nodeId: 'a', attempt: 1, owner: 'e1', nodeState: 'succeeded', attemptState: 'succeeded', at: 21_000, output: { json: '"old"', hash: 'old' } }]);
      assert.deepEqual(late, [false]);
      const ok = await store.apply([{ type: 'finish', runId: id, nodeId: 'a', attempt: 2, owner: 'e2', nodeState: 'succeeded', attemptState: 'succeeded', at: 22_000, output: { json: '"new"', hash: 'new' }, cpuMs: 3.5, peakRssMb: 12 }]);
      assert.deepEqual(ok, [true]);
      const n = await store.getNode(id, 'a');
      assert.equal(n?.state, 'succeeded');
      assert.deepEqual(n?.output, { json: '"new"', hash: 'new' });
      assert.equal(n?.leaseOwner, undefined);
      const at = await store.getAttempts(id, 'a');
      assert.deepEqual(at.map((x) => [x.attempt, x.state]), [[1, 'lost'], [2, 'succeeded']]);
      assert.equal(at[1]?.cpuMs, 3.5);
      assert.equal(at[1]?.peakRssMb, 12);
    }));

  test(`[${name}] a claim made ahead is recorded claimed; started it runs; taken over unstarted it is released, not lost`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a', 'b', 'c']) }]);
      await store.apply([claim(id, 'a', 1, 'e1', { ahead: true }), claim(id, 'b', 1, 'e1', { ahead: true }), claim(id, 'c', 1, 'e1', { ahead: true })]);
      assert.deepEqual((await store.getAttempts(id)).map((x) => [x.nodeId, x.state]), [['a', 'claimed'], ['b', 'claimed'], ['c', 'claimed']]);
      await store.apply([{ type: 'startAttempts', runId: id, attempts: [{ nodeId: 'a', attempt: 1 }], at: 7_000 }]);
      await store.apply([{ type: 'releaseAttempts', runId: id, attempts: [{ nodeId: 'c', attempt: 1 }], at: 7_500, reason: 'cancelled' }]);
      // e1 dies; e2 takes both over: the started one was lost, the one never started was only released.
      await store.apply([claim(id, 'a', 2, 'e2', { now: 20_000, leaseUntil: 50_000 }), claim(id, 'b', 2, 'e2', { now: 20_000, leaseUntil: 50_000 })]);
      const at = (await store.getAttempts(id)).sort((x, y) => x.nodeId.localeCompare(y.nodeId) || x.attempt - y.attempt);
      assert.deepEqual(at.map((x) => [x.nodeId, x.attempt, x.state]), [['a', 1, 'lost'], ['a', 2, 'running'], ['b', 1, 'released'], ['b', 2, 'running'], ['c', 1, 'released']]);
      assert.equal(at[0]?.startedAt, 7_000, 'a started attempt records when it started');
    }));

  test(`[${name}] a running node of a dead engine can be taken over before its lease expires`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a']) }]);
      await store.apply([claim(id, 'a', 1, 'dead')]);
      assert.deepEqual(await store.apply([claim(id, 'a', 2, 'e2', { now: 6_000 })]), [false], 'lease still valid');
      assert.deepEqual(await store.apply([claim(id, 'a', 2, 'e2', { now: 6_000, deadOwners: ['dead'] })]), [true]);
    }));

  test(`[${name}] retrying nodes are claimable only after their backoff`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a']) }]);
      await store.apply([claim(id, 'a', 1, 'e1')]);
      await store.apply([{ type: 'finish', runId: id, nodeId: 'a', attempt: 1, owner: 'e1', nodeState: 'retrying', attemptState: 'failed', at: 6_000, error: 'boom', errorKind: 'user', notBefore: 7_000 }]);
      assert.equal((await store.getNode(id, 'a'))?.notBefore, 7_000);
      assert.deepEqual(await store.apply([claim(id, 'a', 2, 'e1', { now: 6_500 })]), [false]);
      assert.deepEqual(await store.apply([claim(id, 'a', 2, 'e1', { now: 7_000 })]), [true]);
      assert.equal((await store.getAttempts(id, 'a'))[0]?.errorKind, 'user');
    }));

  test(`[${name}] setState only moves from the listed states and records expansions, inputs and resets`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['m', 'x']) }]);
      const r = await store.apply([
        { type: 'setState', runId: id, nodeId: 'm', from: ['pending'], state: 'running', at: 1, expansion: { count: 3 } },
        { type: 'setState', runId: id, nodeId: 'x', from: ['running'], state: 'succeeded', at: 1 },
        { type: 'setInput', runId: id, nodeId: 'x', input: { json: '{"i":0}', hash: 'ih' }, key: 'k1', parts: { task: 't' } },
      ]);
      assert.deepEqual(r.slice(0, 2), [true, false]);
      assert.deepEqual((await store.getNode(id, 'm'))?.expansion, { count: 3 });
      const x = await store.getNode(id, 'x');
      assert.equal(x?.state, 'pending');
      assert.deepEqual(x?.input, { json: '{"i":0}', hash: 'ih' });
      assert.equal(x?.cacheKey, 'k1');
      assert.deepEqual(x?.cacheParts, { task: 't' });
      await store.apply([{ type: 'setState', runId: id, nodeId: 'm', from: ['running'], state: 'failed', at: 2, error: 'e' }]);
      await store.apply([{ type: 'setState', runId: id, nodeId: 'm', from: ['failed'], state: 'pending', at: 3, error: null, retryBase: 2 }]);
      const m = await store.getNode(id, 'm');
      assert.equal(m?.state, 'pending');
      assert.equal(m?.retryBase, 2);
      assert.equal(m?.error, undefined);
    }));

  test(`[${name}] a study step applies only over the step it was decided from, with its trials and their params`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      const trial = (k: number, x: number): NodeRecord => ({ runId: id, id: `s[${k}]`, seq: 10 + k, spec: { id: `s[${k}]`, kind: 'task', task: 't', input: { lit: { params: { x } } }, parent: 's', trial: k }, state: 'pending', attempts: 0, retryBase: 0 });
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['s']) }]);
      // Step 1 (no expansion yet → 2 trials) wins; a second engine's step 1 (→ 3 trials) loses, and its trials stay out.
      const step = (from: { count: number } | null, to: { count: number }, trials: NodeRecord[]): Mutation[] => [
        { type: 'setState', runId: id, nodeId: 's', from: ['pending', 'running'], state: 'running', at: 1, expansion: to, ifExpansion: from },
        { type: 'insertNodes', nodes: trials, ifParent: { nodeId: 's', expansion: to } },
      ];
      assert.deepEqual(await store.apply(step(null, { count: 2 }, [trial(0, 0.5), trial(1, 0.25)])), [true, true]);
      assert.deepEqual((await store.apply(step(null, { count: 3 }, [trial(0, 0.9), trial(1, 0.8), trial(2, 0.7)])))[0], false);
      const all = await store.getNodes(id);
      assert.deepEqual(all.map((n) => n.id).sort(), ['s', 's[0]', 's[1]']);
      assert.deepEqual(all.find((n) => n.id === 's[0]')?.spec.input, { lit: { params: { x: 0.5 } } }, "the winner's params");
      assert.equal(all.find((n) => n.id === 's[0]')?.seq, 10);
      // The next step builds on the stored one.
      assert.deepEqual((await store.apply(step({ count: 2 }, { count: 3 }, [trial(2, 0.1)])))[0], true);
      assert.deepEqual((await store.getNode(id, 's'))?.expansion, { count: 3 });
      // A trial is claimed only with the spec it was stored with.
      const stored = JSON.stringify(trial(2, 0.1).spec);
      assert.deepEqual(await store.apply([claim(id, 's[2]', 1, 'e1', { ifSpec: JSON.stringify(trial(2, 0.7).spec) })]), [false]);
      assert.deepEqual(await store.apply([claim(id, 's[2]', 1, 'e1', { ifSpec: stored })]), [true]);
    }));

  test(`[${name}] events and logs come back in order, after a given sequence number`, () =>
    withStore(async ({ store }) => {
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }]);
      await store.apply([{ type: 'events', events: Array.from({ length: 1200 }, (_, i) => ({ runId: id, at: i, type: `e${i}`, data: { i } })) }]);
      const events = await store.getEvents(id);
      assert.equal(events.length, 1200);
      assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['e0', 'e1']);
      assert.deepEqual(events[5]?.data, { i: 5 });
      const after = await store.getEvents(id, events[1197]!.seq);
      assert.deepEqual(after.map((e) => e.type), ['e1198', 'e1199']);
      await store.apply([{ type: 'logs', logs: [{ runId: id, nodeId: 'a', attempt: 1, stream: 'stdout', at: 1, text: 'one\n' }, { runId: id, nodeId: 'b', attempt: 1, stream: 'stderr', at: 2, text: 'two\n' }] }]);
      await store.apply([{ type: 'logs', logs: [{ runId: id, nodeId: 'a', attempt: 2, stream: 'stdout', at: 3, text: 'three\n' }] }]);
      assert.deepEqual((await store.getLogs(id)).map((l) => l.text), ['one\n', 'two\n', 'three\n']);
      assert.deepEqual((await store.getLogs(id, { nodeId: 'a' })).map((l) => l.text), ['one\n', 'three\n']);
      assert.deepEqual((await store.getLogs(id, { nodeId: 'a', attempt: 2 })).map((l) => l.text), ['three\n']);
      const first = (await store.getLogs(id))[0]!;
      assert.deepEqual((await store.getLogs(id, { afterSeq: first.seq! })).map((l) => l.text), ['two\n', 'three\n']);
    }));

  test(`[${name}] the cache keeps the first entry per key and lists a task's recent entries`, () =>
    withStore(async ({ store }) => {
      const entry = (key: string, hash: string, createdAt: number) => ({ key, task: 'train', runId: 'r', nodeId: 'n', output: { json: '1', hash }, parts: { k: key }, createdAt });
      await store.apply([{ type: 'putCache', entry: entry('k1', 'first', 1) }]);
      assert.deepEqual(await store.apply([{ type: 'putCache', entry: entry('k1', 'second', 2) }]), [false]);
      await store.apply([{ type: 'putCache', entry: entry('k2', 'other', 3) }]);
      const hits = await store.lookupCache(['k1', 'k2', 'k3']);
      assert.equal(hits.get('k1')?.output.hash, 'first');
      assert.deepEqual(hits.get('k2')?.parts, { k: 'k2' });
      assert.equal(hits.has('k3'), false);
      assert.deepEqual((await store.recentCacheEntries('train', 10)).map((e) => e.key), ['k2', 'k1']);
      const many = Array.from({ length: 1500 }, (_, i) => `none-${i}`);
      assert.equal((await store.lookupCache(many)).size, 0);
    }));

  test(`[${name}] lineage records are deduplicated`, () =>
    withStore(async ({ store }) => {
      const rec = { runId: 'r1', nodeId: 'n', attempt: 1, sha256: 'a'.repeat(64), direction: 'write' as const };
      await store.apply([{ type: 'lineage', records: [rec, rec] }]);
      await store.apply([{ type: 'lineage', records: [rec, { ...rec, direction: 'read' }] }]);
      assert.equal((await store.getLineage('r1')).length, 2);
      assert.equal((await store.getLineage('r1', 'other')).length, 0);
    }));

  test(`[${name}] engines register, heartbeat and renew their leases`, () =>
    withStore(async ({ store }) => {
      await store.registerEngine({ id: 'e1', host: 'h', pid: 42, startedAt: 1, heartbeatAt: 1 });
      await store.heartbeatEngine('e1', 99);
      const [e] = await store.getEngines(['e1', 'e2']);
      assert.deepEqual(e, { id: 'e1', host: 'h', pid: 42, startedAt: 1, heartbeatAt: 99 });
      const id = rid();
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ['a']) }, claim(id, 'a', 1, 'e1')]);
      await store.apply([{ type: 'renewLeases', owner: 'e1', leaseUntil: 77_777, runId: id, nodeIds: ['a'] }]);
      await store.apply([{ type: 'renewLeases', owner: 'e2', leaseUntil: 88_888, runId: id, nodeIds: ['a'] }]);
      assert.equal((await store.getNode(id, 'a'))?.leaseUntil, 77_777);
    }));

  test(`[${name}] concurrent engines on one store never claim the same node twice`, () =>
    withStore(async ({ store, open }) => {
      const id = rid();
      const ids = Array.from({ length: 200 }, (_, i) => `n${i}`);
      await store.apply([{ type: 'insertRun', run: runRecord(id) }, { type: 'insertNodes', nodes: nodes(id, ids) }]);
      const others = await Promise.all([open(), open(), open()]);
      try {
        const engines = [store, ...others];
        const won = await Promise.all(
          engines.map(async (s, e) => {
            const mine: string[] = [];
            for (let i = 0; i < ids.length; i += 20) {
              const batch = ids.slice(i, i + 20);
              const r = await s.apply(batch.map((n) => claim(id, n, 1, `e${e}`)));
              r.forEach((ok, j) => ok && mine.push(batch[j]!));
            }
            return mine;
          }),
        );
        const all = won.flat();
        assert.equal(all.length, ids.length, 'every node claimed');
        assert.equal(new Set(all).size, ids.length, 'no node claimed twice');
        const attempts = await store.getAttempts(id);
        assert.equal(attempts.length, ids.length);
      } finally {
        for (const o of others) await o.close();
      }
    }));

  datasetConformance(name, withStore);
  trackingConformance(name, withStore);
  registryConformance(name, withStore);
}
