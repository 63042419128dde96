import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { BatonError } from '../../../errors.ts';
import { LocalArtifactStore } from './store.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('stores content once under its sha256, streamed, read-only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-art-'));
  try {
    const store = new LocalArtifactStore(dir);
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const whole = Buffer.concat(chunks);
    const a = await store.put(Readable.from(chunks));
    assert.deepEqual(a, { sha256: sha(whole), size: whole.length });
    const b = await store.put(whole);
    assert.deepEqual(b, a, 'same content, same key');
    const path = await store.localPath(a.sha256);
    assert.ok(path.startsWith(dir));
    assert.equal(statSync(path).mode & 0o222, 0, 'artifact files are read-only');
    assert.ok((await store.read(a.sha256)).equals(whole));
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no temporary files left behind');
    const f = join(dir, 'in.txt');
    writeFileSync(f, 'hello');
    assert.equal((await store.putFile(f)).sha256, sha('hello'));
    assert.equal(readFileSync(await store.localPath(sha('hello')), 'utf8'), 'hello');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no key can escape the root: only sha256 hex digests are accepted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-art-'));
  try {
    const store = new LocalArtifactStore(dir);
    for (const key of ['../../etc/passwd', '/etc/passwd', `${'a'.repeat(63)}/`, 'A'.repeat(64), '..', '']) {
      await assert.rejects(store.get(key), (e: unknown) => e instanceof BatonError && e.code === 'artifact' && /not a sha256/.test(e.message));
      await assert.rejects(store.has(key) as Promise<unknown>, BatonError);
      assert.throws(() => store.pathOf(key), BatonError);
    }
    await assert.rejects(store.read('f'.repeat(64)), /is not in the artifact store/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
