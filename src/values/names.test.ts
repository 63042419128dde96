import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDatasetName } from '../data/datasets/ref.ts';
import { BatonError } from '../errors.ts';
import { checkModelName } from '../registry/registration.ts';
import { isPathSafeName, safeBaseName } from './names.ts';

test('registry names with "." or ".." parts, empty parts or leading dots are refused; ordinary ones pass', () => {
  for (const ok of ['sales', 'raw/flights', 'team/churn.v2', 'a-b_c.d', 'a/b/c']) assert.equal(isPathSafeName(ok), true, ok);
  for (const bad of ['a/../../evil', '..', '.', 'a/./b', 'a//b', 'a/', '/a', '.hidden', 'a/.x', 'a\\b', '', 'x'.repeat(129), 'a b']) {
    assert.equal(isPathSafeName(bad), false, bad);
  }
});

test('a dataset or model name that climbs out of its folder is refused with the allowed characters named', () => {
  for (const check of [checkDatasetName, checkModelName]) {
    assert.throws(
      () => check('a/../../evil'),
      (e: unknown) => e instanceof BatonError && e.code === 'usage' && e.message.includes('"a/../../evil"') && /letters, digits, "\.", "_", "-", and "\/" between parts/.test(e.message) && /no "\.\."/.test(e.message),
    );
  }
});

test('a handle name becomes one safe path component', () => {
  assert.equal(safeBaseName('../../outside/x', 'dir'), 'x');
  assert.equal(safeBaseName('..', 'dir'), 'dir');
  assert.equal(safeBaseName('..\\..\\evil', 'dir'), 'evil');
  assert.equal(safeBaseName('/etc/', 'dir'), 'etc');
  assert.equal(safeBaseName('.bashrc', 'dir'), 'bashrc');
  assert.equal(safeBaseName('model dir\0\n', 'dir'), 'model_dir__');
  assert.equal(safeBaseName({ toString: () => '../x' }, 'dir'), 'dir');
  assert.equal(safeBaseName('x'.repeat(500), 'dir').length, 100);
});
