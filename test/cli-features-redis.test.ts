// `baton features …` against a Redis online store, through the real CLI: `--online redis://…` and BATON_ONLINE
// select it, values materialized by one command are read by the next (a second process, as a second machine would),
// and an unreachable Redis fails with exit 5 and a message naming the URL and the fix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { EXIT_CODES } from '../src/errors.ts';
import { freshRedisNamespace, redisUnavailable, type FreshNamespace } from './support/redis.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const skip = (await redisUnavailable()) ?? undefined;
let dir: string;
let ns: FreshNamespace;

function baton(extraEnv: Record<string, string>, ...rest: string[]): { code: number; stdout: string; stderr: string } {
  const args = [bin, '--store', `sqlite:${join(dir, 'baton.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`, ...rest];
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', BATON_FEATURES: '', BATON_ONLINE: '', ...extraEnv } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-features-redis-'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  writeFileSync(join(dir, 'stats.csv'), 'origin,ts,avg_delay,flights\nSEA,2024-01-10 00:00:00,1.5,10\nSFO,2024-01-10 00:00:00,2.5,20\nSEA,2024-01-09 00:00:00,9,90\n');
  // The CLI under test runs dist/: definitions import the same compiled feature store.
  const features = pathToFileURL(join(root, 'dist/public/features.js')).href;
  writeFileSync(
    join(dir, 'features.ts'),
    `import { entity, featureView } from '${features}';
const origin = entity({ name: 'origin', joinKeys: ['origin'] });
export const originStats = featureView({ name: 'origin_stats', entities: [origin], source: { path: new URL('./stats.csv', import.meta.url).pathname }, timestampField: 'ts', ttlMs: null, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' } });
`,
  );
  if (!skip) ns = await freshRedisNamespace();
});
after(async () => {
  await ns?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('materialize, list and get with --online redis://…, then with BATON_ONLINE; nothing lands in SQLite', { skip }, () => {
  const first = baton({}, 'features', 'materialize', '--online', ns.url);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /materialized {2}origin_stats@[0-9a-f]{12} {2}2 key\(s\) read, 2 stored {2}full/);
  const again = baton({ BATON_ONLINE: ns.url }, 'features', 'materialize', '--json');
  assert.equal(again.code, 0, again.stderr);
  const r = JSON.parse(again.stdout) as { full: boolean; rows: number };
  assert.deepEqual([r.full, r.rows], [false, 0], 'incremental: the watermark lives in Redis');

  const got = baton({ BATON_ONLINE: ns.url }, 'features', 'get', 'origin_stats', 'SEA', 'BOS');
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /SEA\s+1\.5\s+10\n/, 'the latest value, not the older 9');
  assert.match(got.stdout, /BOS\s+not_found\s+not_found/);
  const list = baton({}, 'features', 'list', '--json', '--online', ns.url);
  assert.equal((JSON.parse(list.stdout.trim()) as { materialized: boolean }).materialized, true);
  assert.equal(existsSync(join(dir, '.baton', 'online.db')), false, 'the embedded store was never opened');
});

test('an unreachable Redis: exit 5, the URL with its password hidden, and how to fix it', () => {
  const down = baton({}, 'features', 'list', '--online', 'redis://:hunter2@127.0.0.1:1/0');
  assert.equal(down.code, EXIT_CODES.store, down.stderr);
  assert.match(down.stderr, /Cannot reach the Redis online store at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 .*Start Redis there/);
  assert.doesNotMatch(down.stderr, /hunter2/);
  const typo = baton({ BATON_ONLINE: 'reddis://localhost:6379' }, 'features', 'list');
  assert.equal(typo.code, EXIT_CODES.usage, typo.stderr);
  assert.match(typo.stderr, /Unknown online store URL "reddis:\/\/localhost:6379"\. Use redis:\/\/HOST:PORT\/DB/);
});
