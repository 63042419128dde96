// `baton features …` through the real CLI: list and materialize views from a definitions module, read them with
// `get`, serve them with `serve` (a real HTTP request to the child process), and the errors a user can make.
// Also `baton datasets show` listing the feature views a training set was built from.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { openPlatform } from '../src/composition/platform.ts';
import { EXIT_CODES } from '../src/errors.ts';
import { entity, featureView, saveTrainingSet } from '../src/features/index.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
let dir: string;
const children: ChildProcess[] = [];

const urls = () => ({ store: `sqlite:${join(dir, 'baton.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });
const args = (...rest: string[]) => [bin, '--store', urls().store, '--artifacts', urls().artifacts, ...rest];
const env = () => ({ ...process.env, NO_COLOR: '1', BATON_FEATURES: '', BATON_ONLINE: '' });

function baton(...rest: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args(...rest), { cwd: dir, encoding: 'utf8', env: env() });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-features-'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  writeFileSync(join(dir, 'stats.csv'), 'origin,ts,avg_delay,flights\nSEA,2024-01-10 00:00:00,1.5,10\nSFO,2024-01-10 00:00:00,2.5,20\nSEA,2024-01-09 00:00:00,9,90\n');
  // The CLI under test runs dist/: definitions import the same compiled feature store.
  const features = pathToFileURL(join(root, 'dist/public/features.js')).href;
  writeFileSync(
    join(dir, 'features.ts'),
    `import { entity, featureView } from '${features}';
const origin = entity({ name: 'origin', joinKeys: ['origin'] });
export const originStats = featureView({ name: 'origin_stats', entities: [origin], source: { path: new URL('./stats.csv', import.meta.url).pathname }, timestampField: 'ts', ttlMs: null, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' } });
// A TS transform source: the load an airport had a minute ago.
export const load = featureView({ name: 'airport_load', entities: [origin], source: { transform: () => [{ origin: 'SEA', at: new Date(Date.now() - 60_000), load: 0.75 }] }, timestampField: 'at', ttlMs: 86_400_000, features: { load: 'DOUBLE' } });
export default [originStats, load];
`,
  );
});
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('list, materialize (incremental) and get, with the definitions in ./features.ts', () => {
  const listed = baton('features', 'list');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /origin_stats\s+[0-9a-f]{12}\s+origin\s+file stats\.csv\s+none\s+avg_delay, flights\s+not materialized/);
  assert.match(listed.stdout, /airport_load\s+[0-9a-f]{12}\s+origin\s+transform\s+1d\s+load\s+not materialized/);

  const first = baton('features', 'materialize');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /materialized {2}origin_stats@[0-9a-f]{12} {2}2 key\(s\) read, 2 stored {2}full/);
  assert.match(first.stdout, /materialized {2}airport_load@[0-9a-f]{12} {2}1 key\(s\) read, 1 stored/);
  const second = baton('features', 'materialize', 'origin_stats', '--json');
  assert.equal(second.code, 0, second.stderr);
  const r = JSON.parse(second.stdout) as { full: boolean; rows: number; from: number };
  assert.deepEqual([r.full, r.rows, r.from], [false, 0, Date.UTC(2024, 0, 10)], 'nothing new since the watermark');

  const got = baton('features', 'get', 'origin_stats', 'SEA', 'origin=BOS');
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /SEA\s+1\.5\s+10\n/, 'the latest value');
  assert.match(got.stdout, /BOS\s+not_found\s+not_found/);
  const list = baton('features', 'list', '--json');
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string; materialized: boolean }).materialized), [true, true]);
});

test('serve: a real HTTP request to the CLI process, then SIGTERM stops it with exit 0', async () => {
  assert.equal(baton('features', 'materialize').code, 0);
  const child = spawn(process.execPath, args('features', 'serve', '--port', '0', '--defs', join(dir, 'features.ts')), { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL after 60 s; stdout: ${stdout}; stderr: ${stderr}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\/features\/online/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const post = (body: unknown) => fetch(`${url}/features/online`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const res = await post({ features: ['origin_stats:avg_delay', 'airport_load:load'], entities: [{ origin: 'SEA' }, { origin: 'SFO' }] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { rows: unknown[]; statuses: unknown[] };
  assert.deepEqual(body.rows, [{ origin: 'SEA', avg_delay: 1.5, load: 0.75 }, { origin: 'SFO', avg_delay: 2.5, load: null }]);
  assert.deepEqual(body.statuses[1], { avg_delay: 'present', load: 'not_found' });
  const unknown = await post({ features: ['nope:x'], entities: [{ origin: 'SEA' }] });
  assert.equal(unknown.status, 404);
  assert.match(stdout, /serving 2 feature view\(s\)/);
  assert.match(stdout, /curl -s http/);
  const health = await fetch(`${url}/health`);
  assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
  const ready = await fetch(`${url}/ready`);
  assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
  const notJson = await fetch(`${url}/features/online`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(notJson.status, 415);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});

test('errors: no definitions, a missing file, an unknown view, a bad key, a port in use', async () => {
  const empty = mkdtempSync(join(dir, 'empty-'));
  const none = spawnSync(process.execPath, args('--cwd', empty, 'features', 'list'), { cwd: dir, encoding: 'utf8', env: env() });
  assert.equal(none.status, EXIT_CODES.usage);
  assert.match(none.stderr, /Which feature views\? Pass --defs FILE/);
  const missing = baton('features', 'list', '--defs', 'nope.ts');
  assert.equal(missing.code, EXIT_CODES.not_found);
  assert.match(missing.stderr, /Feature definitions file nope\.ts does not exist/);
  const view = baton('features', 'get', 'route_stats', 'SEA');
  assert.equal(view.code, EXIT_CODES.not_found);
  assert.match(view.stderr, /No feature view "route_stats" in the definitions \(they define: origin_stats, airport_load\)/);
  const key = baton('features', 'get', 'origin_stats', 'dest=SEA');
  assert.equal(key.code, EXIT_CODES.usage);
  assert.match(key.stderr, /"dest=SEA" is not KEY=VALUE for a join key of "origin_stats" \(its join keys: origin\)/);
  const blocker = spawn(process.execPath, ['-e', 'require("node:http").createServer().listen(0, "127.0.0.1", function () { console.log(this.address().port); })'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(blocker);
  const port = await new Promise<string>((resolve) => blocker.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const busy = baton('features', 'serve', '--port', port);
  blocker.kill('SIGTERM');
  assert.equal(busy.code, EXIT_CODES.usage);
  assert.match(busy.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is in use\\. Pick another with --port N`));
});

test('datasets show lists the feature views a training set was built from', async () => {
  const p = await openPlatform({ ...urls(), cwd: dir, executor: 'inline' });
  try {
    const origin = entity({ name: 'origin', joinKeys: ['origin'] });
    const view = featureView({ name: 'origin_stats', entities: [origin], source: { path: join(dir, 'stats.csv') }, timestampField: 'ts', ttlMs: null, features: { avg_delay: 'DOUBLE' } });
    await saveTrainingSet(await p.offline(), p.datasets, 'train', { entities: [{ origin: 'SEA', event_timestamp: new Date(Date.UTC(2024, 0, 9, 12)) }], features: [view] });
    const shown = baton('datasets', 'show', 'train@1');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`features origin_stats@${view.version.slice(0, 12)} \\(the feature views it was built from\\)`));
    const json = JSON.parse(baton('datasets', 'show', 'train', '--json').stdout) as { featureViews: unknown };
    assert.deepEqual(json.featureViews, [{ name: 'origin_stats', version: view.version }]);
  } finally {
    await p.close();
  }
});
