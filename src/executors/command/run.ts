/**
 * Runs a command task's executable. The input goes to $BATON_INPUT as JSON, with every file handle given a `path`
 * to a local copy; the program writes its output JSON to $BATON_OUTPUT. In that output, `{ "$file": "path" }`
 * (relative to the working directory) is stored in the artifact store and replaced by a file handle, and
 * `{ "$dir": "path" }` by a directory handle. Non-zero exit fails the attempt with the end of stderr in the message.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { RecordingAccess } from '../../runtime/artifact-access.ts';
import type { CommandRun } from '../../runtime/execute.ts';
import type { TaskDefinition } from '../../sdk/task.ts';
import { guardGroup, guardianReady } from './guardian.ts';
import { recordCopy, waitForPreviousCopy } from './previous-copy.ts';
import { sampleProcess } from './proc-stats.ts';

export type { CommandRun };

async function withPaths(value: unknown, access: RecordingAccess): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => withPaths(v, access)));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.$artifact === 'file') return { ...o, path: await access.path(o as never) };
    if (o.$artifact === 'dir') return { ...o, path: await access.dirPath(o as never) };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = await withPaths(v, access);
    return out;
  }
  return value;
}

async function storeFiles(value: unknown, access: RecordingAccess, cwd: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => storeFiles(v, access, cwd)));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$file === 'string') return access.putFile(isAbsolute(o.$file) ? o.$file : join(cwd, o.$file), typeof o.format === 'string' ? { format: o.format } : {});
    if (typeof o.$dir === 'string') return access.putDir(isAbsolute(o.$dir) ? o.$dir : join(cwd, o.$dir));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = await storeFiles(v, access, cwd);
    return out;
  }
  return value;
}

class CommandError extends Error {
  constructor(
    message: string,
    readonly batonKind: 'output' | 'user',
  ) {
    super(message);
  }
}

export async function runCommand(def: TaskDefinition, input: unknown, run: CommandRun): Promise<unknown> {
  const argv = def.command!(input);
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
    throw new CommandError(`command of task "${def.options.name}" must be a non-empty list of strings, got ${JSON.stringify(argv)}`, 'user');
  }
  const dir = await run.scratch();
  const inputFile = join(dir, 'input.json');
  const outputFile = join(dir, 'output.json');
  await writeFile(inputFile, JSON.stringify(await withPaths(input, run.access)));
  const cwd = def.commandOptions?.cwd ?? (def.location ? dirname(def.location.file) : process.cwd());
  const [exe, ...args] = argv as [string, ...string[]];
  const tail: string[] = [];
  if (run.runId) await waitForPreviousCopy(run.runId, run.nodeId, (text) => run.log('stderr', text), run.signal);
  await guardianReady();
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(exe, args, {
      cwd,
      env: { ...process.env, ...run.env, BATON_INPUT: inputFile, BATON_OUTPUT: outputFile, BATON_NODE: run.nodeId },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so cancel and timeout kill everything it started; the guardian kills that group
      // if this process dies first (even by SIGKILL), so no copy outlives its engine to run beside a resumed one.
      detached: true,
    });
    const unguardGroup = child.pid ? guardGroup(child.pid) : () => undefined;
    const forgetCopy = child.pid && run.runId ? recordCopy(run.runId, run.nodeId, child.pid) : () => undefined;
    const unguard = () => {
      unguardGroup();
      forgetCopy();
    };
    const stopSampling = child.pid ? sampleProcess(child.pid, (s) => (run.stats = { ...run.stats, ...s })) : () => undefined;
    child.stdout.setEncoding('utf8').on('data', (t: string) => run.log('stdout', t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      run.log('stderr', t);
      tail.push(t);
      if (tail.length > 20) tail.shift();
    });
    const kill = () => {
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
          setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }, 2000).unref();
        } catch {
          /* already gone */
        }
      }
    };
    run.signal.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      stopSampling();
      unguard();
      reject(new CommandError(`could not start ${JSON.stringify(exe)}: ${err.message}. Check that the executable exists and is on PATH (cwd ${cwd}).`, 'user'));
    });
    child.on('close', (code, sig) => {
      stopSampling();
      unguard();
      run.signal.removeEventListener('abort', kill);
      resolvePromise(code ?? (sig ? 128 : 1));
    });
  });
  run.stats = { ...run.stats, exitCode };
  if (run.signal.aborted) throw new Error(String(run.signal.reason));
  if (exitCode !== 0) {
    const err = tail.join('').trim().split('\n').slice(-5).join('\n');
    throw new CommandError(`${argv.join(' ')} exited with code ${exitCode}${err ? `:\n${err}` : ''}`, 'user');
  }
  let text: string;
  try {
    text = await readFile(outputFile, 'utf8');
  } catch {
    throw new CommandError(`${argv.join(' ')} exited 0 but wrote no output to $BATON_OUTPUT (${outputFile}). Write the output as JSON to the file named by the BATON_OUTPUT environment variable.`, 'output');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CommandError(`${argv.join(' ')} wrote output that is not valid JSON (${(err as Error).message}). Write JSON to $BATON_OUTPUT.`, 'output');
  }
  return storeFiles(value, run.access, resolve(cwd));
}
