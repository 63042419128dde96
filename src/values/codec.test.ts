import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalArtifactStore } from '../stores/artifacts/local/store.ts';
import { decodeValue, encodeValue } from './codec.ts';

test('equal values hash equally whatever their key order; small ones stay inline, large ones become artifacts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-codec-'));
  try {
    const store = new LocalArtifactStore(dir);
    const a = await encodeValue({ x: 1, y: [1, 2], z: { b: 1, a: 2 } }, store);
    const b = await encodeValue({ z: { a: 2, b: 1 }, y: [1, 2], x: 1 }, store);
    assert.equal(a.stored.hash, b.stored.hash);
    assert.ok(a.stored.json);
    const big = { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, s: `row-${i}` })) };
    const e = await encodeValue(big, store, 1024);
    assert.equal(e.stored.json, undefined);
    assert.match(e.stored.ref ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(await decodeValue(e.stored, store), big);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bytes travel as blob artifacts and come back as Buffers; undefined survives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-codec-'));
  try {
    const store = new LocalArtifactStore(dir);
    const bytes = Buffer.from('weights'.repeat(100));
    const e = await encodeValue({ model: bytes, name: 'm' }, store);
    assert.equal(e.written.length, 1);
    assert.deepEqual(e.refs, e.written);
    const back = (await decodeValue(e.stored, store)) as { model: Buffer; name: string };
    assert.ok(Buffer.isBuffer(back.model) && back.model.equals(bytes));
    assert.equal(back.name, 'm');
    assert.equal(await decodeValue((await encodeValue(undefined, store)).stored, store), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
