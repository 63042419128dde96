// Bad inputs through the real CLI: each gets a clear message naming the item and the fix, a documented exit
// code, and leaves the store intact.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const fixtures = join(root, 'test/fixtures');
let dir: string;
let store: string;

function baton(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--store', `sqlite:${store}`, '--artifacts', `file:${join(dir, 'artifacts')}`, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function storeState(): { runs: number; integrity: string } {
  const db = new Database(store, { readonly: true });
  try {
    const runs = (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    return { runs, integrity };
  } finally {
    db.close();
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  store = join(dir, 'baton.db');
  // One good run so the store exists and has content to protect.
  const ok = baton('run', join(root, 'examples/hello/hello.ts'), '-e', 'inline', '--json');
  assert.equal(ok.code, 0, ok.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a workflow file that does not load: exit 3, names the file and the error, store untouched', () => {
  const beforeState = storeState();
  const r = baton('run', join(fixtures, 'broken/syntax-error.ts'));
  assert.equal(r.code, EXIT_CODES.workflow_load);
  assert.match(r.stderr, /syntax-error\.ts failed to load/);
  assert.match(r.stderr, /Fix the error/);
  assert.deepEqual(storeState(), beforeState);
});

test('a file that exports no workflow, or a file that does not exist: exit 3 with the fix', () => {
  const a = baton('run', join(fixtures, 'broken/no-workflow.ts'));
  assert.equal(a.code, EXIT_CODES.workflow_load);
  assert.match(a.stderr, /exports no workflow.*export default workflow/s);
  const b = baton('run', join(dir, 'nope.ts'));
  assert.equal(b.code, EXIT_CODES.workflow_load);
  assert.match(b.stderr, /nope\.ts does not exist/);
});

test('a cycle: exit 3, names the nodes of the cycle', () => {
  const beforeState = storeState();
  const r = baton('run', join(fixtures, 'bad-flows.ts'), '-w', 'bad-cycle');
  assert.equal(r.code, EXIT_CODES.workflow_invalid);
  assert.match(r.stderr, /has a cycle: (a → b → a|b → a → b)/);
  assert.deepEqual(storeState(), beforeState);
});

test('a missing input: exit 3, names the task and the input', () => {
  const r = baton('run', join(fixtures, 'bad-flows.ts'), '-w', 'bad-missing-input');
  assert.equal(r.code, EXIT_CODES.workflow_invalid);
  assert.match(r.stderr, /Task "bad\.inc" needs input "x", but the workflow does not pass it/);
});

test('a workflow builder that throws: exit 3 (a workflow error, not an internal one), names the workflow and the cause', () => {
  const beforeState = storeState();
  const r = baton('run', join(fixtures, 'bad-flows.ts'), '-w', 'bad-builder-throws');
  assert.equal(r.code, EXIT_CODES.workflow_invalid, r.stderr);
  assert.match(r.stderr, /The builder of workflow "bad-builder-throws" threw: .*stages.*Fix the workflow's builder function/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.deepEqual(storeState(), beforeState);
});

test('a command task whose output violates its schema: the run fails (exit 1) and says which field', () => {
  const r = baton('run', join(fixtures, 'bad-flows.ts'), '-w', 'bad-command', '--json');
  assert.equal(r.code, EXIT_CODES.run_failed);
  const out = JSON.parse(r.stdout.trim()) as { status: string; error: string; runId: string };
  assert.equal(out.status, 'failed');
  assert.match(out.error, /bad\.command-output/);
  assert.match(out.error, /"auc"/);
  const show = baton('show', out.runId);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /output schema/);
  assert.equal(storeState().integrity, 'ok');
});

test('bad parameters: exit 3 naming the parameter', () => {
  const r = baton('run', join(root, 'examples/hello/hello.ts'), '--param', 'name=123');
  assert.equal(r.code, EXIT_CODES.params_invalid);
  assert.match(r.stderr, /parameter "name"/);
});

test('an unknown run id: exit 4 with how to list runs', () => {
  for (const args of [['show', 'no-such-run'], ['logs', 'no-such-run'], ['resume', 'no-such-run'], ['cache', 'explain', 'no-such-run', 'x'], ['replay', 'no-such-run', 'x']]) {
    const r = baton(...args);
    assert.equal(r.code, EXIT_CODES.not_found, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /No run "no-such-run".*baton runs/s);
  }
});

test('a corrupt store path: exit 5, says how to fix it, and leaves the file byte-for-byte unchanged', () => {
  const bad = join(dir, 'corrupt.db');
  writeFileSync(bad, 'this is not a database '.repeat(500));
  const hash = () => createHash('sha256').update(readFileSync(bad)).digest('hex');
  const h0 = hash();
  const r = spawnSync(process.execPath, [bin, '--store', `sqlite:${bad}`, 'runs'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, EXIT_CODES.store);
  assert.match(r.stderr, /corrupt\.db is not a valid Baton SQLite database/);
  assert.match(r.stderr, /did not modify it/);
  assert.equal(hash(), h0);
  const d = spawnSync(process.execPath, [bin, '--store', `sqlite:${dir}`, 'runs'], { cwd: dir, encoding: 'utf8' });
  assert.equal(d.status, EXIT_CODES.store);
  assert.match(d.stderr, /is a directory/);
});

test('usage errors exit 2', () => {
  assert.equal(baton('frobnicate').code, EXIT_CODES.usage);
  assert.equal(baton('run').code, EXIT_CODES.usage);
  assert.equal(baton('run', join(root, 'examples/hello/hello.ts'), '--param', 'oops').code, EXIT_CODES.usage);
});

test('--version prints the version from package.json and exits 0', () => {
  const r = baton('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
});
