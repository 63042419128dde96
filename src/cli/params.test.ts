import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatonError } from '../errors.ts';
import { nonNegativeInt, parseParams, parsePools, positiveInt } from './params.ts';

test('no --param key path or JSON value can modify Object.prototype', () => {
  const attempts = [
    '__proto__.store=sqlite:elsewhere.db',
    'a.__proto__.polluted=1',
    'constructor.prototype.polluted=1',
    'a.constructor.prototype.polluted=1',
    'prototype.polluted=1',
    '__proto__={"polluted":1}',
    'x={"__proto__":{"polluted":1}}',
    'x=[{"constructor":{"prototype":{"polluted":1}}}]',
  ];
  for (const pair of attempts) {
    assert.throws(() => parseParams([pair]), (err: unknown) => err instanceof BatonError && err.code === 'usage' && /not allowed/.test(err.message), pair);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, pair);
    assert.equal(({} as Record<string, unknown>).store, undefined, pair);
  }
  // Even mixed with valid pairs, nothing leaks onto prototypes and results are ordinary objects.
  const ok = parseParams(['a.b=1', 'a.c="x"', 'n=5']);
  assert.deepEqual(ok, { a: { b: 1, c: 'x' }, n: 5 });
  assert.equal(Object.getPrototypeOf(ok), Object.prototype);
});

test('@PATH and dataset:REF become markers; @@ and JSON-quoted strings stay literal', () => {
  assert.deepEqual(parseParams(['data=@train.csv', 'ds=dataset:trips@latest', 'at=@@home', 'lit="dataset:trips@1"', 'q="@x"']), {
    data: { $file: 'train.csv' },
    ds: { $dataset: 'trips@latest' },
    at: '@home',
    lit: 'dataset:trips@1',
    q: '@x',
  });
  assert.throws(() => parseParams(['data=@']), /must be followed by a file or folder path/);
  assert.throws(() => parseParams(['a..b=1']), /empty part/);
});

test('numeric option parsers name the option and what is allowed', () => {
  assert.equal(positiveInt('--cpus')('4'), 4);
  assert.equal(nonNegativeInt('--gpus')('0'), 0);
  for (const bad of ['abc', '0', '-1', '1.5', '', ' ', '1e400']) assert.throws(() => positiveInt('--cpus')(bad), /--cpus must be a whole number ≥ 1, got/);
  assert.throws(() => nonNegativeInt('--gpus')('-1'), /--gpus must be a whole number ≥ 0, got "-1"/);
});

test('--pool NAME=N: N a whole number ≥ 1, nothing trailing, no prototype names', () => {
  assert.deepEqual(parsePools(['gpu=1', 'db=4']), { gpu: 1, db: 4 });
  for (const bad of ['gpu', 'gpu=', 'gpu=0', 'gpu=1=2', 'gpu= 1', 'gpu=1.5', '=2']) assert.throws(() => parsePools([bad]), /is not NAME=N with N ≥ 1/, bad);
  assert.throws(() => parsePools(['__proto__=1']), /not allowed as a pool name/);
});
