// Data from outside a run must never give silently stale results (issue 14 item 1), end to end through the CLI:
// a CSV path passed as a string is fingerprinted, `--param data=@FILE` / `@FOLDER` pass content-addressed handles,
// `--param data=dataset:NAME@latest` a dataset version; a task that opts out of fingerprinting warns on every hit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const flows = join(root, 'test/fixtures/stale-flows.ts');
let dir: string;

interface Result { code: number; stdout: string; stderr: string }

function baton(...args: string[]): Promise<Result> {
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

/** `rows` rows of `id,x`; x = i, so the sum tells which rows were read. */
function csv(rows: number): string {
  return ['id,x', ...Array.from({ length: rows }, (_, i) => `${i + 1},${i}`)].join('\n') + '\n';
}

interface Outcome { runId: string; status: string; output: unknown; stderr: string }

async function run(workflow: string, ...params: string[]): Promise<Outcome> {
  const r = await baton('run', flows, '-w', workflow, '-e', 'inline', '--json', ...params.flatMap((p) => ['--param', p]));
  assert.equal(r.code, 0, `run ${workflow} ${params.join(' ')}: ${r.stderr}${r.stdout}`);
  return { ...(JSON.parse(r.stdout.trim()) as Omit<Outcome, 'stderr'>), stderr: r.stderr };
}

/** Node id → the run it reused a result from (or undefined: it ran). */
async function cachedFrom(runId: string): Promise<Record<string, string | undefined>> {
  const r = await baton('show', runId, '--json');
  assert.equal(r.code, 0, r.stderr);
  const { nodes } = JSON.parse(r.stdout) as { nodes: { id: string; cachedFrom?: string }[] };
  return Object.fromEntries(nodes.map((n) => [n.id, n.cachedFrom]));
}

async function explain(runId: string, task: string): Promise<string> {
  const r = await baton('cache', 'explain', runId, task);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-stale-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a CSV path passed as a string', () => {
  it('re-runs the task that reads it when the file is cut to 100 rows, and gives the new result; cache explain names the path', async () => {
    writeFileSync(join(dir, 'train.csv'), csv(1000));
    const a = await run('stale-path', 'data=train.csv');
    assert.deepEqual(a.output, { score: 499.5, rows: 1000 });
    const b = await run('stale-path', 'data=train.csv');
    assert.deepEqual(Object.values(await cachedFrom(b.runId)).filter(Boolean).length, 3, 'unchanged file: all three tasks cached');

    writeFileSync(join(dir, 'train.csv'), csv(100));
    const c = await run('stale-path', 'data=train.csv');
    assert.deepEqual(c.output, { score: 49.5, rows: 100 }, 'the result is the new one');
    const cached = await cachedFrom(c.runId);
    assert.equal(cached['stale.load'], undefined, 'the path-reading task re-ran');
    assert.equal(cached['stale.evaluate'], undefined);
    const why = await explain(c.runId, 'stale.load');
    assert.match(why, /^miss: "stale\.load"/);
    assert.match(why, /path "train\.csv" changed: its content differs/);
    assert.doesNotMatch(why, /input "path" changed/, 'the input string itself did not change');
  });

  it('a new mtime with the same content is still a hit (the content hash decides)', async () => {
    writeFileSync(join(dir, 'touched.csv'), csv(50));
    await run('stale-path', 'data=touched.csv');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'touched.csv'), later, later);
    const b = await run('stale-path', 'data=touched.csv');
    assert.ok((await cachedFrom(b.runId))['stale.load'], 'touched, not changed: cached');
    assert.match(await explain(b.runId, 'stale.load'), /path "touched\.csv" was checked: its content matched/);
  });

  it('a folder path: adding a file to it misses the cache and gives the new count', async () => {
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'a.csv'), csv(10));
    const a = await run('stale-folder', 'data=parts');
    assert.deepEqual(a.output, { files: 1 });
    writeFileSync(join(dir, 'parts', 'b.csv'), csv(20));
    const b = await run('stale-folder', 'data=parts');
    assert.deepEqual(b.output, { files: 2 });
    assert.match(await explain(b.runId, 'stale.count-files'), /path "parts" changed: its content differs/);
  });

  it('a task with fingerprintPaths: false is answered from the cache with a warning naming the path', async () => {
    writeFileSync(join(dir, 'optout.csv'), csv(1000));
    await run('stale-optout', 'data=optout.csv');
    writeFileSync(join(dir, 'optout.csv'), csv(100));
    const b = await run('stale-optout', 'data=optout.csv');
    assert.deepEqual(b.output, { score: 499.5, rows: 1000 }, 'opted out: the cached (stale) result, as documented');
    assert.match(b.stderr, /warning: "stale\.load-unchecked" was answered from the cache without checking "optout\.csv" \(the task sets fingerprintPaths: false\)/);
    assert.match(await explain(b.runId, 'stale.load-unchecked'), /^hit: .*\n\s+warning: the task sets fingerprintPaths: false, so changes to "optout\.csv" were not checked/);
  });
});

describe('--param NAME=@PATH and NAME=dataset:REF', () => {
  it('@FILE passes a content-addressed file handle: a cut file re-runs the pipeline with the new result', async () => {
    writeFileSync(join(dir, 'handle.csv'), csv(1000));
    const a = await run('stale-file', 'data=@handle.csv');
    assert.deepEqual(a.output, { score: 499.5, rows: 1000 });
    writeFileSync(join(dir, 'handle.csv'), csv(100));
    const b = await run('stale-file', 'data=@handle.csv');
    assert.deepEqual(b.output, { score: 49.5, rows: 100 });
    assert.equal((await cachedFrom(b.runId))['stale.load-file'], undefined);
    assert.match(await explain(b.runId, 'stale.load-file'), /input "data" changed/);
    const c = await run('stale-file', 'data=@handle.csv');
    assert.ok((await cachedFrom(c.runId))['stale.load-file'], 'same content: cached');
  });

  it('@FOLDER passes a dir handle', async () => {
    mkdirSync(join(dir, 'shards'));
    writeFileSync(join(dir, 'shards', '1.csv'), csv(10));
    writeFileSync(join(dir, 'shards', '2.csv'), csv(20));
    const a = await run('stale-dir', 'data=@shards');
    assert.deepEqual(a.output, { score: 7.833, rows: 30 }); // (45 + 190) / 30, rounded
  });

  it('dataset:NAME@latest passes the latest version; dataset:NAME@1 the first', async () => {
    writeFileSync(join(dir, 'events.csv'), csv(1000));
    assert.equal((await baton('datasets', 'register', 'events', 'events.csv')).code, 0);
    writeFileSync(join(dir, 'events.csv'), csv(100));
    assert.equal((await baton('datasets', 'register', 'events', 'events.csv')).code, 0);
    const latest = (await run('stale-dataset', 'data=dataset:events@latest')).output as { version: number; result: { rows: number } };
    assert.deepEqual([latest.version, latest.result.rows], [2, 100]);
    const first = (await run('stale-dataset', 'data=dataset:events@1')).output as { version: number; result: { rows: number } };
    assert.deepEqual([first.version, first.result.rows], [1, 1000]);
  });

  it('a missing @PATH or dataset is refused before the run starts (exit 4, naming it)', async () => {
    const r = await baton('run', flows, '-w', 'stale-file', '--param', 'data=@nope.csv');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /Parameter "data" names nope\.csv .*not an existing file or folder.*@@/);
    const d = await baton('run', flows, '-w', 'stale-dataset', '--param', 'data=dataset:nothing@latest');
    assert.equal(d.code, 4, d.stderr);
    assert.match(d.stderr, /nothing/);
  });
});
