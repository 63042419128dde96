import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeSpec } from '../spec/graph.ts';
import { RunMachine } from './machine.ts';

const t = (id: string, deps: string[] = [], extra: Partial<NodeSpec> = {}): NodeSpec => ({
  id,
  kind: 'task',
  task: 't',
  input: { obj: Object.fromEntries(deps.map((d) => [d, { ref: d }])) },
  ...extra,
});

function machine(capacity = { cpu: 2, memoryMB: 1000, gpu: 0 }, pools: Record<string, number> = {}) {
  return new RunMachine(capacity, pools);
}

const demand = { cpu: 1, memoryMB: 0, gpu: 0 };

test('a node becomes resolvable only when all its dependencies are done', () => {
  const m = machine();
  m.add([t('a'), t('b'), t('c', ['a', 'b'])].map((spec) => ({ spec, phase: 'pending' as const })));
  assert.deepEqual(m.takeResolvable().sort(), ['a', 'b']);
  for (const id of ['a', 'b']) m.enqueue(id, demand);
  assert.deepEqual(m.pickDispatch(0), ['a', 'b']);
  m.succeed('a', { json: '1', hash: 'h' });
  assert.deepEqual(m.takeResolvable(), []);
  m.succeed('b', { json: '2', hash: 'h' });
  assert.deepEqual(m.takeResolvable(), ['c']);
});

test('never dispatches beyond CPU, GPU or pool capacity, and frees capacity once per attempt', () => {
  const m = machine({ cpu: 4, memoryMB: 100, gpu: 1 }, { db: 1 });
  m.add(['g1', 'g2', 'p1', 'p2', 'x'].map((id) => ({ spec: t(id), phase: 'pending' as const })));
  m.takeResolvable();
  m.enqueue('g1', { ...demand, gpu: 1 });
  m.enqueue('g2', { ...demand, gpu: 1 });
  m.enqueue('p1', { ...demand, pool: 'db' });
  m.enqueue('p2', { ...demand, pool: 'db' });
  m.enqueue('x', { ...demand, memoryMB: 200 });
  assert.deepEqual(m.pickDispatch(0), ['g1', 'p1'], 'one GPU, pool db of 1; x needs more memory than exists');
  assert.deepEqual(m.usage(), { cpu: 2, memoryMB: 0, gpu: 1, pools: { db: 1 } });
  m.succeed('g1', { json: '1', hash: 'h' });
  assert.deepEqual(m.pickDispatch(0), ['g2'], 'the waiting GPU task goes first once the GPU is free (FIFO with backfill)');
  m.fail('p1', 'boom', { allowed: false, notBefore: 0 });
  assert.deepEqual(m.pickDispatch(0), ['p2']);
  assert.equal(m.usage().pools.db, 1);
});

test('a retry waits for its backoff, measured on the injected clock', () => {
  const m = machine();
  m.add([{ spec: t('a'), phase: 'pending' }]);
  m.takeResolvable();
  m.enqueue('a', demand);
  m.pickDispatch(1000);
  assert.equal(m.fail('a', 'flaky', { allowed: true, notBefore: 1500 }), 'retrying');
  assert.equal(m.nextWakeup(), 1500);
  assert.deepEqual(m.pickDispatch(1499), []);
  assert.deepEqual(m.pickDispatch(1500), ['a']);
});

test('a failure makes dependents upstream_failed transitively; independent nodes are unaffected', () => {
  const m = machine();
  m.add([t('a'), t('b', ['a']), t('c', ['b']), t('d')].map((spec) => ({ spec, phase: 'pending' as const })));
  m.takeResolvable();
  m.enqueue('a', demand);
  m.pickDispatch(0);
  m.fail('a', 'boom', { allowed: false, notBefore: 0 });
  assert.equal(m.get('b').phase, 'upstream_failed');
  assert.equal(m.get('c').phase, 'upstream_failed');
  assert.equal(m.get('d').phase, 'resolving');
  assert.equal(m.done(), false);
  m.skip('d');
  assert.equal(m.done(), true);
  assert.equal(m.outcome(), 'failed');
});

test('a skipped node (branch not taken) skips what depends on it, and the run still succeeds', () => {
  const m = machine();
  m.add([t('a'), t('b', ['a'])].map((spec) => ({ spec, phase: 'pending' as const })));
  m.takeResolvable();
  m.skip('a');
  assert.equal(m.get('b').phase, 'skipped');
  assert.equal(m.outcome(), 'succeeded');
});

test('an expansion adds nodes the parent then waits for', () => {
  const m = machine();
  m.add([{ spec: { id: 'list', kind: 'task', task: 't' }, phase: 'pending' }, { spec: { id: 'm', kind: 'map', task: 't', over: { ref: 'list' }, input: { item: [] } }, phase: 'pending' }]);
  m.takeResolvable();
  m.enqueue('list', demand);
  m.pickDispatch(0);
  m.succeed('list', { json: '[1,2]', hash: 'h' });
  assert.deepEqual(m.takeResolvable(), ['m']);
  m.add(['m[0]', 'm[1]'].map((id) => ({ spec: t(id, ['list']), phase: 'pending' as const })));
  m.expand('m', { count: 2 }, ['m[0]', 'm[1]']);
  assert.equal(m.get('m').phase, 'expanded');
  assert.deepEqual(m.takeResolvable().sort(), ['m[0]', 'm[1]']);
  for (const id of ['m[0]', 'm[1]']) m.succeed(id, { json: '1', hash: 'h' });
  assert.deepEqual(m.takeResolvable(), ['m'], 'the map is evaluated again to gather its items');
});

test('rejects an illegal transition', () => {
  const m = machine();
  m.add([{ spec: t('a'), phase: 'succeeded', output: { json: '1', hash: 'h' } }]);
  assert.throws(() => m.enqueue('a', demand), /illegal transition of node "a" from succeeded to ready/);
});
