import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatonError } from '../errors.ts';
import type { DirHandle } from '../sdk/handles.ts';
import { LocalArtifactStore } from '../stores/artifacts/local/store.ts';
import { canonicalJson } from '../values/codec.ts';
import { artifactAccess } from './artifact-access.ts';
import { isInside } from './dir-manifest.ts';

/** A temporary area with a store, a scratch folder and an `outside` folder that nothing may touch. */
async function area(fn: (a: { root: string; scratch: string; outside: string; store: LocalArtifactStore; access: ReturnType<typeof artifactAccess> }) => Promise<void>): Promise<void> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'baton-access-')));
  try {
    const scratch = join(root, 'a', 'scratch');
    const outside = join(root, 'a', 'outside');
    mkdirSync(scratch, { recursive: true });
    mkdirSync(outside, { recursive: true });
    const store = new LocalArtifactStore(join(root, 'store'));
    await fn({ root, scratch, outside, store, access: artifactAccess(store, () => Promise.resolve(scratch)) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A dir handle to a hand-written (forged) manifest. */
async function forged(store: LocalArtifactStore, manifest: unknown, name = 'd'): Promise<DirHandle> {
  const { sha256 } = await store.put(canonicalJson(manifest));
  return { $artifact: 'dir', sha256, size: 0, name, files: 0 };
}

const badManifest = (e: unknown) => e instanceof BatonError && e.code === 'artifact' && /Directory manifest [0-9a-f]{64} is not valid/.test(e.message);

test('dirPath with a forged handle name "../../outside/x" materialises inside the scratch folder', async () => {
  await area(async ({ scratch, outside, access, root }) => {
    const src = join(root, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'f.txt'), 'hello');
    const handle = await access.putDir(src);
    for (const name of ['../../outside/x', '../'.repeat(40) + outside.slice(1) + '/x', '..', '']) {
      const dir = await access.dirPath({ ...handle, name });
      assert.ok(isInside(scratch, dir) && dir !== scratch, `${dir} is inside ${scratch}`);
      assert.equal(readFileSync(join(dir, 'sub', 'f.txt'), 'utf8'), 'hello');
    }
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside the scratch folder');
  });
});

test('a manifest entry outside the folder is refused: "../x", an absolute path, a sibling with the same prefix', async () => {
  await area(async ({ store, access, outside }) => {
    const { sha256 } = await store.put('x');
    for (const path of ['../x', '../../outside/x', '/tmp/x', 'a/../../x', '..\\x', 'a//b', '', `../d-sibling/x`]) {
      await assert.rejects(access.dirPath(await forged(store, { files: [{ path, sha256, size: 1 }] })), badManifest, path);
    }
    assert.deepEqual(readdirSync(outside), []);
    // The containment test itself compares with a trailing separator.
    assert.equal(isInside('/tmp/abc', '/tmp/abcX'), false);
    assert.equal(isInside('/tmp/abc', '/tmp/abcX/f'), false);
    assert.equal(isInside('/tmp/abc', '/tmp/abc/f'), true);
    assert.equal(isInside('/tmp/abc/', '/tmp/abc/f'), true);
  });
});

test('forged link entries that lead outside are refused, also through another link', async () => {
  await area(async ({ store, access, outside }) => {
    const cases = [
      [{ path: 'l', target: '..' }],
      [{ path: 'a/l', target: '../..' }],
      [{ path: 'l', target: '/etc' }],
      [{ path: 'l', target: 'x/../..' }],
      [{ path: 'a', target: '.' }, { path: 'a/l', target: '..' }], // "a" leads to the root, so "a/l" → ".." would leave it
    ];
    for (const links of cases) {
      await assert.rejects(access.dirPath(await forged(store, { files: [], links })), badManifest, JSON.stringify(links));
    }
    assert.deepEqual(readdirSync(outside), []);
  });
});

test('putDir keeps links that stay inside the folder and materialises them as links', async () => {
  await area(async ({ root, access }) => {
    const src = join(root, 'model');
    mkdirSync(join(src, 'weights'), { recursive: true });
    writeFileSync(join(src, 'weights', 'v1.bin'), 'w1');
    symlinkSync('weights/v1.bin', join(src, 'latest.bin')); // relative, to a file
    symlinkSync(join(src, 'weights'), join(src, 'w')); // absolute, to a folder inside: stored relative
    symlinkSync('weights/v2.bin', join(src, 'next.bin')); // dangling, but inside
    const handle = await access.putDir(src);
    assert.equal(handle.files, 1);
    const dir = await access.dirPath(handle);
    assert.equal(readlinkSync(join(dir, 'latest.bin')), 'weights/v1.bin');
    assert.equal(readlinkSync(join(dir, 'w')), 'weights');
    assert.equal(readlinkSync(join(dir, 'next.bin')), 'weights/v2.bin');
    assert.equal(readFileSync(join(dir, 'latest.bin'), 'utf8'), 'w1');
    assert.equal(readFileSync(join(dir, 'w', 'v1.bin'), 'utf8'), 'w1');
    assert.ok(lstatSync(join(dir, 'w')).isSymbolicLink());
  });
});

test('putDir refuses a link that points outside the folder, naming it and the fix', async () => {
  await area(async ({ root, outside, access }) => {
    writeFileSync(join(outside, 'secret'), 's');
    for (const target of [join(outside, 'secret'), '../a/outside/secret', '../nowhere']) {
      const src = mkdtempSync(join(root, 'src-'));
      writeFileSync(join(src, 'f'), 'f');
      symlinkSync(target, join(src, 'leak'));
      await assert.rejects(
        access.putDir(src),
        (e: unknown) => e instanceof BatonError && e.message.includes('"leak" is a symbolic link to') && /outside the folder/.test(e.message) && /cp -L/.test(e.message),
        target,
      );
    }
  });
});

test('a folder without links keeps the manifest (and hash) it had before links were stored', async () => {
  await area(async ({ root, store, access }) => {
    const src = join(root, 'plain');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'a');
    const handle = await access.putDir(src);
    const { sha256 } = await store.put('a');
    assert.equal(handle.sha256, (await store.put(canonicalJson({ files: [{ path: 'a.txt', sha256, size: 1 }] }))).sha256);
  });
});
