// Parameters and numeric options are checked by the real CLI (issue 15 item 5): unknown parameters are workflow
// parameter errors (exit 3) naming the closest known one; prototype keys and bad numbers are usage errors (exit 2)
// naming the option and what is allowed; none of them starts a run or touches another store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const hello = join(root, 'examples/hello/hello.ts');
let dir: string;

function baton(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, '--store', `sqlite:${join(dir, 'baton.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function runCount(): Promise<number> {
  const r = await baton('runs', '--json', '-n', '1000');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim() ? r.stdout.trim().split('\n').length : 0;
}

let runId: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-params-'));
  const ok = await baton('run', hello, '-e', 'inline', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  runId = (JSON.parse(ok.stdout.trim()) as { runId: string }).runId;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('an unknown parameter, or one in the wrong case, is refused with exit 3 naming it, the closest match and the known ones', async () => {
  const [bogus, upper] = await Promise.all([baton('run', hello, '--param', 'bogus=1'), baton('run', hello, '--param', 'Name=Ada')]);
  assert.equal(bogus.code, EXIT_CODES.params_invalid, bogus.stderr);
  assert.match(bogus.stderr, /Workflow "hello" has no parameter "bogus"\. Its parameters: name\./);
  assert.equal(upper.code, EXIT_CODES.params_invalid, upper.stderr);
  assert.match(upper.stderr, /has no parameter "Name"\. Did you mean "name"\?/);
  assert.equal(await runCount(), 1, 'no run was started');
});

test('--param __proto__.store (and constructor/prototype keys) is a usage error; no other store is created', async () => {
  const results = await Promise.all(['__proto__.store=sqlite:elsewhere.db', 'constructor.prototype.store=sqlite:elsewhere.db', 'name={"__proto__":{"x":1}}'].map((p) => baton('run', hello, '-e', 'inline', '--param', p)));
  for (const r of results) {
    assert.equal(r.code, EXIT_CODES.usage, r.stderr);
    assert.match(r.stderr, /uses the key "(__proto__|constructor)", which is not allowed/);
  }
  assert.equal(existsSync(join(dir, 'elsewhere.db')), false);
  assert.equal(await runCount(), 1);
});

test('bad --cpus, --memory, --gpus values are usage errors naming the option and what is allowed', async () => {
  const cases: [string[], RegExp][] = [
    [['--cpus', 'abc'], /--cpus must be a whole number ≥ 1, got "abc"\. Example: --cpus 4/],
    [['--cpus', '0'], /--cpus must be a whole number ≥ 1, got "0"/],
    [['--memory', 'abc'], /--memory must be a whole number ≥ 1, got "abc"\. Example: --memory 4096/],
    [['--gpus', '-1'], /--gpus must be a whole number ≥ 0, got "-1"/],
  ];
  const results = await Promise.all(cases.map(([args]) => baton('run', hello, '-e', 'inline', ...args)));
  results.forEach((r, i) => {
    assert.equal(r.code, EXIT_CODES.usage, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i]![1]);
  });
  assert.equal(await runCount(), 1);
});

test('runs -n, runs search -n, logs --attempt, study --limit and resume --cpus refuse bad numbers with exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['runs', '-n', '-5'], /--limit must be a whole number ≥ 1, got "-5"/],
    [['runs', '-n', 'abc'], /--limit must be a whole number ≥ 1, got "abc"/],
    [['runs', 'search', 'metrics.x > 1', '-n', '0'], /--limit must be a whole number ≥ 1, got "0"/],
    [['logs', runId, '--attempt', 'x'], /--attempt must be a whole number ≥ 1, got "x"/],
    [['study', runId, '--limit', 'abc'], /--limit must be a whole number ≥ 1, got "abc"/],
    [['resume', runId, '--cpus', '0'], /--cpus must be a whole number ≥ 1, got "0"/],
  ];
  const results = await Promise.all(cases.map(([args]) => baton(...args)));
  results.forEach((r, i) => {
    assert.equal(r.code, EXIT_CODES.usage, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i]![1]);
  });
  const ok = await baton('runs', '-n', '1');
  assert.equal(ok.code, 0, ok.stderr);
});
