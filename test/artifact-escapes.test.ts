/**
 * Forged handles and a tampered artifact store, through real runs: a handle's name cannot place a folder outside
 * the task's scratch area (TypeScript tasks, command tasks, the processes executor), content altered in the store
 * fails the task that reads it, and a dataset name that climbs out of its folder is refused wherever it enters.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatonError } from '../src/errors.ts';
import type { DirHandle, FileHandle } from '../src/sdk/handles.ts';
import type { LocalArtifactStore } from '../src/stores/artifacts/local/store.ts';
import { canonicalJson, decodeShallow } from '../src/values/codec.ts';
import { datasetFlow, dirCommandFlow, dirFlow, fileFlow } from './fixtures/escape-flows.ts';
import { tempPlatform } from './support/platform.ts';

/**
 * A test area whose temporary folder (TMPDIR, where tasks get their scratch folders) is `<area>/tmp`, beside an
 * `<area>/outside` folder: "../../outside/x" from a scratch folder `<area>/tmp/baton-task-XXXX` lands in it.
 */
async function contained(fn: (a: { area: string; tmp: string; outside: string }) => Promise<void>): Promise<void> {
  const area = realpathSync(mkdtempSync(join(tmpdir(), 'baton-escape-')));
  const tmp = join(area, 'tmp');
  const outside = join(area, 'outside');
  mkdirSync(tmp);
  mkdirSync(outside);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await fn({ area, tmp, outside });
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(area, { recursive: true, force: true });
  }
}

/** A real stored folder (two files) with a forged name. */
async function forgedDir(store: LocalArtifactStore, name: string): Promise<DirHandle> {
  const a = await store.put('alpha');
  const b = await store.put('beta');
  const manifest = { files: [{ path: 'a.txt', sha256: a.sha256, size: 5 }, { path: 'sub/b.txt', sha256: b.sha256, size: 4 }] };
  const { sha256 } = await store.put(canonicalJson(manifest));
  return { $artifact: 'dir', sha256, size: 9, name, files: 2 };
}

for (const { label, flow, executor } of [
  { label: 'a TypeScript task (inline)', flow: dirFlow, executor: 'inline' as const },
  { label: 'a TypeScript task (processes executor)', flow: dirFlow, executor: 'processes' as const },
  { label: 'a command task', flow: dirCommandFlow, executor: 'inline' as const },
]) {
  test(`a dir handle named "../../outside/x" passed as a parameter to ${label} leaves nothing outside the scratch area`, async () => {
    await contained(async ({ tmp, outside }) => {
      const { platform, dispose } = await tempPlatform({ executor, workers: 1 });
      try {
        const store = platform.artifacts as LocalArtifactStore;
        for (const name of ['../../outside/x', '../'.repeat(40) + outside.slice(1) + '/x']) {
          const r = await platform.run(flow, { d: await forgedDir(store, name) });
          assert.equal(r.status, 'succeeded', r.error);
          const out = (await decodeShallow(r.output!, platform.artifacts)) as { path: string; files: string[] };
          assert.ok(out.path.startsWith(join(tmp, 'baton-')), `${out.path} is in a scratch folder under ${tmp}`);
          assert.deepEqual(out.files, ['a.txt', 'sub', 'sub/b.txt']);
          assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the scratch area');
        }
        assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('baton-esc')), [], 'the scratch folders were removed after the runs');
      } finally {
        await dispose();
      }
    });
  });
}

test('a file altered in the artifact store fails the task that reads it, naming the artifact', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const store = platform.artifacts as LocalArtifactStore;
    const { sha256, size } = await store.put('the original');
    const handle: FileHandle = { $artifact: 'file', sha256, size, name: 'f.txt' };
    const ok = await platform.run(fileFlow, { f: handle });
    assert.equal(ok.status, 'succeeded', ok.error);
    chmodSync(store.pathOf(sha256), 0o644);
    writeFileSync(store.pathOf(sha256), 'the forgery!');
    const r = await platform.run(fileFlow, { f: handle });
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', new RegExp(`Artifact ${sha256} in the artifact store .* is corrupt or was tampered with`));
  } finally {
    await dispose();
  }
});

test('a dataset named "a/../../evil" is refused in a task, through the platform and by the CLI, with the allowed characters', async () => {
  const allowed = /Dataset name "a\/\.\.\/\.\.\/evil" is not valid\. Use 1–128 characters: letters, digits/;
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const r = await platform.run(datasetFlow, { name: 'a/../../evil' });
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', allowed);
    writeFileSync(join(dir, 'd.csv'), 'a\n1\n');
    await assert.rejects(platform.datasets.register('a/../../evil', join(dir, 'd.csv')), (e: unknown) => e instanceof BatonError && e.code === 'usage' && allowed.test(e.message));
    await assert.rejects(platform.datasets.resolve('a/../../evil@1'), (e: unknown) => e instanceof BatonError && allowed.test(e.message));
    assert.deepEqual(await platform.store.listDatasets(), []);
    const bin = new URL('../bin/baton.mjs', import.meta.url).pathname;
    const cli = spawnSync(process.execPath, [bin, '--cwd', dir, 'datasets', 'register', 'a/../../evil', 'd.csv'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, allowed);
  } finally {
    await dispose();
  }
});
