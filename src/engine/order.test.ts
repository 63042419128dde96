import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mutation } from '../ports/metadata.ts';
import { orderForLocks } from './runner.ts';

const ds = (name: string): Mutation => ({ type: 'putDatasetVersion', version: { name, sha256: name, format: 'csv', size: 1, rows: 1, schema: [], createdAt: 1 } as never });
const ev = (type: string): Mutation => ({ type: 'events', events: [{ runId: 'r', at: 1, type }] });

test('dataset registrations go last, sorted by name, and every result maps back to its mutation', () => {
  const muts = [ev('a'), ds('zeta'), ev('b'), ds('alpha'), ev('c')];
  const { batch, position } = orderForLocks(muts);
  assert.deepEqual(batch.map((m) => (m.type === 'events' ? m.events[0]!.type : (m as Extract<Mutation, { type: 'putDatasetVersion' }>).version.name)), ['a', 'b', 'c', 'alpha', 'zeta']);
  for (let i = 0; i < muts.length; i++) assert.equal(batch[position[i]!], muts[i]);
  const single = [ev('x'), ds('one')];
  assert.deepEqual(orderForLocks(single).batch, single);
});
