// ctx.log's buffer: artifacts by name (the last one wins), copied when logged, with their lineage direction decided
// from what the attempt stored when it reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatonError } from '../errors.ts';
import type { FileHandle } from '../sdk/handles.ts';
import { trackingLog } from './tracking-log.ts';

const handle = (c: string): FileHandle => ({ $artifact: 'file', sha256: c.repeat(64), size: 1, name: `${c}.bin` });

test('artifacts: the last per name, copied when logged, written ones as writes and the rest as reads', () => {
  const written = new Set<string>();
  const log = trackingLog({ lr: 0.1 }, () => 42, { writtenSet: written });
  assert.equal(log.report(), undefined, 'nothing logged: no tracking run');
  const mine = handle('a');
  log.artifact('model', handle('0'));
  log.artifact('model', mine);
  log.artifact('input', handle('b'));
  mine.name = 'changed.bin';
  written.add('a'.repeat(64)); // stored by the attempt after it was logged: still counts
  assert.deepEqual(log.report(), {
    params: { lr: '0.1' },
    artifacts: [
      { name: 'model', handle: handle('a'), loggedAt: 42 },
      { name: 'input', handle: handle('b'), loggedAt: 42, lineage: 'read' },
    ],
  });
});

test('artifact() refuses what is not a handle, naming the call and the fix', () => {
  const log = trackingLog({});
  const usage = (re: RegExp) => (e: unknown) => e instanceof BatonError && e.code === 'usage' && re.test(e.message);
  assert.throws(() => log.artifact('', handle('a')), usage(/non-empty name/));
  assert.throws(() => log.artifact('m', '/tmp/model.bin' as never), usage(/ctx\.log\.artifact\("m", …\) needs a file, directory or dataset handle .*got a string/));
  assert.throws(() => log.artifact('m', { ...handle('a'), sha256: 'nope' }), usage(/sha256: expected a sha256 hex digest/));
  assert.throws(() => log.artifact('m', { $artifact: 'dir', sha256: 'a'.repeat(64), size: 1, name: 'd' } as never), usage(/files/));
  assert.equal(log.report(), undefined);
});
