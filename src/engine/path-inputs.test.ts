import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainMiss, type KeyParts } from './cache-key.ts';
import { pathCandidates } from './path-inputs.ts';

test('path candidates: strings of the input, not inside artifact handles, not URLs or multi-line text', () => {
  const handle = { $artifact: 'file', sha256: 'a'.repeat(64), size: 1, name: 'model.onnx' };
  const { candidates, truncated } = pathCandidates({ data: 'data/train.csv', model: handle, url: 's3://b/k', note: 'a\nb', n: 3, list: ['x.csv', 'x.csv', ''] });
  assert.deepEqual(candidates.sort(), ['data/train.csv', 'x.csv']);
  assert.equal(truncated, false);
  assert.equal(pathCandidates(Array.from({ length: 20 }, (_, i) => `f${i}`), 10).truncated, true);
});

test('explainMiss names a path whose content changed, appeared or disappeared', () => {
  const base: KeyParts = { task: 't', code: { version: '1' }, input: 'i', paths: { 'a.csv': 'file:1', 'old.csv': 'file:2' } };
  const next: KeyParts = { ...base, paths: { 'a.csv': 'file:9', 'new.csv': 'file:3' } };
  assert.deepEqual(explainMiss(base, next), [
    'path "a.csv" changed: its content differs',
    'path "old.csv" no longer exists (or is no longer an input)',
    'path "new.csv" is new: it did not exist (or was not an input) before',
  ]);
});
