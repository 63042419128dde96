#!/usr/bin/env node
// Runs every test: builds dist/ first (incrementally: the CLI tests run the compiled `baton`), finds *.test.ts under
// src/, test/ and examples/, starts the services the tests need (PostgreSQL, Redis), runs them with Node's test
// runner (through tsx, with the `baton-source` condition so that `import 'baton'` means src/), and fails when a test
// failed or when no test ran at all.
// Usage: npm test [-- FILE_OR_SUBSTRING...]
//        npm run test:unit [-- FILE_OR_SUBSTRING...]  (--unit: the unit tests only — every *.test.ts under src/, which
//        by convention need neither PostgreSQL, Redis nor a spawned CLI — with no services started)
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { startPostgres } from './services/postgres.mjs';
import { startRedis } from './services/redis.mjs';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const unit = process.argv.includes('--unit');
const filters = process.argv.slice(2).filter((a) => a !== '--unit');
let files = (unit ? findTests(join(root, 'src')) : [...findTests(join(root, 'src')), ...findTests(join(root, 'test')), ...findTests(join(root, 'examples'))]).sort();
if (filters.length > 0) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error(`No test files matched${filters.length ? ` ${filters.join(', ')}` : ''}. Test files end in .test.ts under src/ or test/.`);
  process.exit(1);
}

// The CLI tests spawn bin/baton.mjs, which runs dist/: build it so that they test the code as it is now (unit
// tests spawn no CLI).
if (!unit) {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) process.exit(1);
}

const env = { ...process.env, ...(unit ? { BATON_TEST_SKIP_PG: '1', BATON_TEST_SKIP_REDIS: '1' } : {}) };
let pg;
if (!env.BATON_TEST_PG_URL && env.BATON_TEST_SKIP_PG !== '1') {
  pg = await startPostgres();
  env.BATON_TEST_PG_URL = pg.url;
}
// One redis-server for every test file (each test uses its own key prefix). Started here, a missing redis-server
// that cannot be installed fails the run instead of letting the Redis tests skip themselves.
let redis;
if (!env.BATON_TEST_REDIS_URL && env.BATON_TEST_SKIP_REDIS !== '1') {
  redis = await startRedis();
  env.BATON_TEST_REDIS_URL = redis.url;
}

const tapDir = mkdtempSync(join(tmpdir(), 'baton-tap-'));
const tapFile = join(tapDir, 'results.tap');
const args = [
  '--conditions=baton-source',
  '--import', 'tsx',
  '--test',
  `--test-concurrency=${env.BATON_TEST_CONCURRENCY ?? '2'}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files,
];
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, args, { stdio: 'inherit', env, cwd: root });
  child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
});
if (pg) await pg.stop();
if (redis) await redis.stop();

const tap = readFileSync(tapFile, 'utf8');
rmSync(tapDir, { recursive: true, force: true });
const count = (name) => Number(/^# (\w+) (\d+)$/m.test(tap) ? (tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0) : 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped');
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error('No test executed: treating the run as failed.');
  process.exit(1);
}
process.exit(code !== 0 || failed > 0 ? 1 : 0);
