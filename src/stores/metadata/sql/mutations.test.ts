import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeRecord } from '../../../ports/metadata.ts';
import { compileMutation } from './mutations.ts';

const nodes = (n: number): NodeRecord[] =>
  Array.from({ length: n }, (_, i) => ({ runId: 'r', id: `m[${i}]`, seq: i, spec: { id: `m[${i}]`, kind: 'task', task: 't', input: { lit: { i } } }, state: 'pending', attempts: 0, retryBase: 0 }));

test('a large node insert is built statement by statement, and can be run again (a retried transaction)', () => {
  const group = compileMutation({ type: 'insertNodes', nodes: nodes(200) });
  assert.ok(!Array.isArray(group), 'built lazily, not as one array of every row');
  const first = [...group];
  const again = [...group];
  assert.equal(first.length, Math.ceil(200 / 75), '75 rows of 12 columns per statement');
  assert.deepEqual(again, first);
  assert.equal(first.reduce((n, s) => n + s.params.length, 0), 200 * 12, 'every row once');
  assert.equal(first[0]!.params[1], 'm[0]');
  assert.equal(first.at(-1)!.params.at(-12), 'r');
});
