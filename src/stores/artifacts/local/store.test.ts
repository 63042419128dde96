import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { BatonError } from '../../../errors.ts';
import { LocalArtifactStore, sealOf } from './store.ts';

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

/** A store with one artifact in a fresh folder; the folder is removed afterwards. */
async function withStored(fn: (store: LocalArtifactStore, key: string, file: string, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-art-'));
  try {
    const store = new LocalArtifactStore(dir);
    const { sha256 } = await store.put('the real content');
    await fn(store, sha256, store.pathOf(sha256), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tampered = (key: string) => (e: unknown) => e instanceof BatonError && e.code === 'artifact' && e.message.includes(key) && /corrupt or was tampered with/.test(e.message);

/** Overwrites a stored (read-only) file in place, as a careless user or a bad disk would. */
function alter(file: string, content: string): void {
  chmodSync(file, 0o644);
  writeFileSync(file, content);
}

test('content altered in the store is detected by read, get and localPath, naming the key', async () => {
  await withStored(async (store, key, file) => {
    alter(file, 'other content');
    await assert.rejects(store.read(key), tampered(key));
    await assert.rejects(async () => {
      for await (const _ of await store.get(key)) void _;
    }, tampered(key));
    await assert.rejects(store.localPath(key), tampered(key));
  });
});

test('a file swapped in from another key (same bytes elsewhere, moved onto this name) is refused by localPath', async () => {
  await withStored(async (store, key, file) => {
    const other = await store.put('another artifact');
    renameSync(store.pathOf(other.sha256), file); // keeps the other file's seal, which is not this key's
    await assert.rejects(store.localPath(key), tampered(key));
    await assert.rejects(store.read(key), tampered(key));
  });
});

test('a stream of altered content fails before it ends, so a consumer never sees a clean end', async () => {
  await withStored(async (store, key) => {
    const big = Buffer.alloc(1024 * 1024, 7);
    const { sha256 } = await store.put(big);
    alter(store.pathOf(sha256), Buffer.concat([big.subarray(1), Buffer.from([8])]).toString('latin1'));
    let ended = false;
    const stream = await store.get(sha256);
    stream.on('end', () => (ended = true));
    await assert.rejects(async () => {
      for await (const _ of stream) void _;
    }, tampered(sha256));
    assert.equal(ended, false);
    assert.ok((await store.read(key)).equals(Buffer.from('the real content')), 'the untouched artifact still reads');
  });
});

test('a symbolic link planted in the store is refused, never followed', async () => {
  await withStored(async (store, key, file, dir) => {
    const outside = join(dir, '..', `${key.slice(0, 8)}-outside.txt`);
    writeFileSync(outside, 'the real content'); // even the right bytes: a link is not what the store wrote
    try {
      rmSync(file);
      symlinkSync(outside, file);
      for (const call of [() => store.read(key), () => store.get(key), () => store.localPath(key)]) {
        await assert.rejects(call(), (e: unknown) => tampered(key)(e) && /symbolic link/.test((e as Error).message));
      }
      assert.equal(await store.has(key), false);
    } finally {
      rmSync(outside, { force: true });
    }
  });
});

test('a store folder replaced by a link to elsewhere is refused', async () => {
  await withStored(async (_store, key, _file, dir) => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'baton-art-elsewhere-'));
    try {
      const ab = join(dir, key.slice(0, 2));
      renameSync(ab, join(elsewhere, 'moved'));
      symlinkSync(join(elsewhere, 'moved'), ab);
      // Folders are checked once per store object (reads verify content anyway): a later process opens its own.
      await assert.rejects(new LocalArtifactStore(dir).read(key), (e: unknown) => tampered(key)(e) && /outside the store/.test((e as Error).message));
      await assert.rejects(new LocalArtifactStore(dir).localPath(key), tampered(key));
      await assert.rejects(new LocalArtifactStore(dir).put('the real content'), tampered(key), 'put refuses to write through the link');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

test('a FIFO planted in the store is refused at once, not waited on', async () => {
  await withStored(async (store, key, file) => {
    rmSync(file);
    assert.equal(spawnSync('mkfifo', [file]).status, 0);
    await assert.rejects(store.read(key), (e: unknown) => tampered(key)(e) && /not a regular file/.test((e as Error).message));
    await assert.rejects(store.get(key), tampered(key));
    await assert.rejects(store.localPath(key), tampered(key));
  });
});

test('putting the content again repairs a damaged or replaced entry', async () => {
  await withStored(async (store, key, file) => {
    alter(file, 'garbage');
    await store.put('the real content');
    assert.equal((await store.read(key)).toString(), 'the real content');
    rmSync(file);
    symlinkSync('/etc/hostname', file);
    await store.put('the real content');
    assert.ok(lstatSync(file).isFile(), 'the link itself was replaced, its target untouched');
    assert.equal(await store.localPath(key), file);
  });
});

test('files are sealed when stored; a file without its seal (an older store) is verified once and sealed again', async () => {
  await withStored(async (store, key, file) => {
    assert.equal(statSync(file).mtimeMs, sealOf(key) * 1000);
    utimesSync(file, new Date(), new Date()); // as an older Baton left it
    assert.equal(await store.localPath(key), file);
    assert.equal(statSync(file).mtimeMs, sealOf(key) * 1000, 'verified and sealed');
  });
});
