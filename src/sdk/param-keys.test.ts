import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { closest } from './param-keys.ts';
import { workflow } from './workflow.ts';

const wf = workflow({ name: 'pk', params: z.object({ n: z.number().default(1), learningRate: z.number().default(0.1), model: z.object({ depth: z.number() }).optional() }) }, () => undefined);

test('unknown parameters are refused, naming the parameter, the closest known one and the list', () => {
  assert.throws(() => wf.build({ bogus: 1 }), /Workflow "pk" has no parameter "bogus"\. Its parameters: n, learningRate, model\./);
  assert.throws(() => wf.build({ N: 5 }), /no parameter "N"\. Did you mean "n"\?/);
  assert.throws(() => wf.build({ learningrate: 5 }), /Did you mean "learningRate"\?/);
  assert.throws(() => wf.build({ model: { dpeth: 3 } }), /no parameter "model\.dpeth"\. Did you mean "model\.depth"\? Its parameters: model\.depth\./);
  assert.deepEqual(wf.build({ n: 2, model: { depth: 3 } }).params, { n: 2, learningRate: 0.1, model: { depth: 3 } });
});

test('schemas that accept extra keys keep accepting them', () => {
  const loose = workflow({ name: 'pk-loose', params: z.looseObject({ n: z.number() }) }, () => undefined);
  assert.equal((loose.build({ n: 1, extra: 2 }).params as Record<string, unknown>).extra, 2);
});

test('closest: case differences first, small typos, nothing for unrelated names', () => {
  assert.equal(closest('N', ['n', 'm']), 'n');
  assert.equal(closest('epocs', ['epochs', 'lr']), 'epochs');
  assert.equal(closest('zzzzzz', ['epochs', 'lr']), undefined);
});
