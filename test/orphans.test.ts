// No task runs twice at once after its engine dies. The engine is SIGKILLed in the middle of command tasks (its
// whole process group, as a terminal or a supervisor would, or only its own pid); every copy of every task records
// its pids, and a copy starting while an earlier copy of the same task still runs records an overlap. Then
// `baton resume` must finish the run with no overlap. Linux only: the checks read /proc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GUARD_GRACE_MS } from '../src/executors/command/guardian.ts';
import { query } from './support/engines.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const flow = join(root, 'test/fixtures/orphan-flow.ts');
const linux = process.platform === 'linux';

/** Waits for a condition by checking it every 25 ms (state that only shows in files and /proc). */
async function waitFor(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** State letter of a process from /proc, or undefined if it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
/** Running: exists and is not a zombie (a dead process its parent has not reaped yet). */
const running = (pid: number): boolean => ![undefined, 'Z'].includes(stateOf(pid));

function describe(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 120);
  } catch {
    return '(gone)';
  }
}

/** Pids of live (non-zombie) processes in a process group. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

function recordedPids(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pids'))
    .flatMap((f) => lines(join(dir, f)).map(Number));
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/**
 * `ignoreTerm`: the first copies ignore SIGTERM and the guardian's grace period is long (30 s), and the resume
 * starts at once, while they still run: the resumed copies must wait for them to be SIGKILLed.
 */
async function killMidCommandAndResume(executor: 'inline' | 'processes', kill: 'group' | 'engine', ignoreTerm = false): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `baton-orphans-${executor}-`));
  const store = join(dir, 'baton.db');
  const common = ['--store', `sqlite:${store}`, '--artifacts', `file:${join(dir, 'artifacts')}`, '-e', executor];
  const log = join(dir, 'log');
  const env = { ...process.env, ...(ignoreTerm ? { BATON_GUARD_GRACE_MS: '30000' } : {}) };
  try {
    // Its own process group, as an engine started from a shell has: the test can kill the group like Ctrl-\ would.
    const engine = spawn(process.execPath, [bin, 'run', flow, '-q', '--cpus', '4', '--param', `dir=${dir}`, '--param', `executor=${executor}`, '--param', `ignoreTerm=${ignoreTerm}`, ...common], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    engine.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const starts = executor === 'processes' ? 3 : 2;
    await waitFor(`${starts} tasks to start (engine stderr: ${stderr})`, () => lines(log).filter((l) => /^(start|spin) /.test(l)).length === starts || engine.exitCode !== null);
    assert.equal(engine.exitCode, null, `the engine ended before it was killed: ${stderr}`);
    const firstCopies = recordedPids(dir);
    assert.ok(firstCopies.every(running), 'the first copies are running when the engine is killed');

    if (kill === 'group') process.kill(-engine.pid!, 'SIGKILL');
    else process.kill(engine.pid!, 'SIGKILL');
    await exitOf(engine);
    // The previous copies die with their engine: commands (their own process groups) and worker processes alike.
    const survivors = () => [...firstCopies.filter(running), ...liveInGroup(engine.pid!)].map((pid) => `${pid} (${stateOf(pid)}): ${describe(pid)}`);
    if (!ignoreTerm) {
      await waitFor('the killed engine\'s tasks and workers to die', () => survivors().length === 0, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}; still running: ${survivors().join('; ')}`);
      });
    }

    const runId = query<{ id: string }>(store, 'SELECT id FROM runs')[0]!.id;
    const resume = spawn(process.execPath, [bin, 'resume', runId, '--json', ...common], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    resume.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    resume.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    assert.equal(await exitOf(resume), 0, err);
    assert.equal((JSON.parse(out) as { status: string }).status, 'succeeded');

    const all = lines(log);
    assert.deepEqual(all.filter((l) => l.startsWith('OVERLAP')), [], 'no copy of a task started while an earlier copy was running');
    for (const name of ['a', 'b']) {
      assert.equal(all.filter((l) => l.startsWith(`start ${name} `)).length, 2, `task ${name}: the killed copy and the resumed one`);
      assert.equal(all.filter((l) => l.startsWith(`end ${name} `)).length, 1, `task ${name}: only the resumed copy ended by itself`);
    }
    if (executor === 'processes') assert.equal(all.filter((l) => l.startsWith('spin ')).length, 2);
    if (ignoreTerm) {
      assert.ok(!firstCopies.some(running), 'the copies that ignored SIGTERM were SIGKILLed');
      const logs = spawn(process.execPath, [bin, 'logs', runId, 'a', ...common.slice(0, 4)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      logs.stderr!.on('data', (d: Buffer) => (text += d.toString())); // the task's stderr is printed to stderr
      assert.equal(await exitOf(logs), 0);
      assert.ok(text.includes('waiting for the previous copy'), `logs of a: ${text}`);
      // The resume started well within the 30 s grace period, so the resumed copy found the old one running.
      assert.match(text, /waiting for the previous copy of this task \(process group \d+, left by an engine that died\) to exit/);
    }
  } finally {
    // Whatever happened, leave no process behind.
    for (const pid of existsSync(dir) ? recordedPids(dir) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

test('inline executor: SIGKILL of the engine\'s process group mid-command, then resume: no task ever runs twice at once', { skip: !linux, timeout: 240_000 }, () =>
  killMidCommandAndResume('inline', 'group'),
);

test('processes executor: SIGKILL of the engine\'s process group mid-command, then resume: no task ever runs twice at once', { skip: !linux, timeout: 240_000 }, () =>
  killMidCommandAndResume('processes', 'group'),
);

test('processes executor: SIGKILL of the engine alone: its workers (even one blocking its event loop) and their commands die too', { skip: !linux, timeout: 240_000 }, () =>
  killMidCommandAndResume('processes', 'engine'),
);

test('a resume started while the dead engine\'s commands ignore SIGTERM waits for them to be SIGKILLed: no overlap', { skip: !linux, timeout: 240_000 }, () =>
  killMidCommandAndResume('inline', 'group', true),
);

test('a command that times out is stopped with everything it started (its whole process group)', { skip: !linux, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-orphans-timeout-'));
  try {
    const run = spawn(process.execPath, [bin, 'run', flow, '--workflow', 'orphans-timeout', '--json', '--param', `dir=${dir}`, '--store', `sqlite:${join(dir, 'baton.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    run.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    run.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await exitOf(run);
    assert.equal(code, 1, stderr);
    assert.match(out, /timed out after 1500 ms/);
    const [shell, sleeper] = readFileSync(join(dir, 'slow.group'), 'utf8').trim().split(' ').map(Number);
    await waitFor('the timed-out command and its background process to die', () => !running(shell!) && !running(sleeper!), 30_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command group that ignores SIGTERM is SIGKILLed after the grace period once its owner is SIGKILLed', { skip: !linux, timeout: 120_000 }, async () => {
  const owner = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/guard-owner.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  owner.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  await waitFor('the owner to start its guarded command', () => /^\d+ ready\n/.test(text));
  const pgid = Number(text.split(' ')[0]);
  try {
    assert.ok(liveInGroup(pgid).length >= 2, 'the shell and its sleep run in their own group');
    owner.kill('SIGKILL');
    await exitOf(owner);
    const killedAt = Date.now();
    await waitFor('the group to be killed', () => liveInGroup(pgid).length === 0, 30_000);
    // It ignored SIGTERM, so only the SIGKILL after the grace period ended it.
    assert.ok(Date.now() - killedAt >= GUARD_GRACE_MS - 200, `killed after ${Date.now() - killedAt} ms, before the grace period of ${GUARD_GRACE_MS} ms`);
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
