/**
 * Process executor: runs attempts in a pool of long-lived child processes (child_process.fork with tsx loaded),
 * one attempt per process at a time. Full isolation: a task that exits, crashes or runs out of memory takes down
 * only its worker, which is replaced; the attempt fails as a retryable crash.
 *
 * Measurements are exact for the attempt because a process runs one attempt at a time:
 * - cpuMs: process.cpuUsage() delta in the child around the attempt (child processes a task spawns not included);
 * - peakRssMb: the child's RSS, sampled every 20 ms and at the start and end of the attempt. A task that blocks its
 *   event loop (a synchronous loop) is sampled only when it yields, so a short spike inside one may be missed.
 *
 * Output: process.stdout/stderr writes come over IPC with the result; the child's stdout/stderr pipes are read too,
 * so output written straight to fd 1/2 by native code is captured and attributed to the attempt running on that
 * worker. End markers on the pipes (markers.ts) make sure it is all delivered before the result. The relative
 * order of JavaScript writes and native writes is not kept (two channels).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Executor } from '../../ports/executor.ts';
import { guardProcess } from '../command/guardian.ts';
import { WorkerPool, type WorkerEvents, type WorkerHandle } from '../threads/pool.ts';
import type { FromWorker, WorkerConfig } from '../threads/protocol.ts';
import { fromSource, siblingModule } from '../../runtime/user-module.ts';
import { MarkerSplitter } from './markers.ts';

export interface ProcessExecutorOptions {
  /** Folder of the LocalArtifactStore the engine uses; each worker opens its own store on it. */
  artifactsRoot: string;
  /** Maximum number of child processes (and of attempts running at once). */
  workers: number;
  /** Encoded outputs above this many bytes are stored as artifacts. */
  inlineLimit?: number;
  /** Replace a process after this many attempts (bounds leaks in long-lived workers). @default unlimited */
  recycleAfter?: number;
  /** Time a cancelled attempt gets to stop before its process is killed with SIGKILL. @default 2000 */
  killGraceMs?: number;
}

/** Longest wait for the child's pipes to close after it exited (a grandchild may hold them open). */
const PIPE_CLOSE_WAIT_MS = 500;
/** Longest wait for the end markers after the result arrived (a task may have closed fd 1/2). */
const MARKER_WAIT_MS = 250;
const STDERR_TAIL = 2000;

// Options that must not reach a worker: test runner, inspector, watch mode, eval/print, profilers writing files.
const DROP_FLAGS = /^--(test|experimental-test|inspect|debug|watch|eval|print|input-type|prof|cpu-prof|heap-prof)/;
const DROP_SHORT = new Set(['-e', '-p', '-i', '--interactive', '-c', '--check']);
// Options whose value is the next argument (when not written as --flag=value).
const TAKES_VALUE = new Set([
  '--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C', '--input-type', '--eval', '-e', '--print', '-p',
  '--inspect-port', '--debug-port', '--test-reporter', '--test-reporter-destination', '--test-name-pattern', '--test-skip-pattern', '--test-concurrency',
  '--test-shard', '--test-timeout', '--watch-path', '--cpu-prof-dir', '--cpu-prof-name', '--heap-prof-dir', '--heap-prof-name', '--diagnostic-dir', '--title',
  '--env-file', '--experimental-default-type', '--stack-trace-limit', '--max-old-space-size', '--max-semi-space-size', '--disable-warning',
]);
const isTsx = (value: string) => /(^|[\\/])tsx([\\/]|$)/.test(value) || value === 'tsx' || value.startsWith('tsx/');

/**
 * The engine's execArgv without what cannot or should not be inherited, plus tsx (by absolute URL, so it loads
 * whatever the working directory): works when the engine was started with `node --import tsx`, the tsx CLI
 * (whose --require/--import of tsx files are replaced) or tsx's register() API (empty execArgv).
 */
export function workerExecArgv(parent: string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const hasInlineValue = flag !== arg;
    const value = hasInlineValue ? arg.slice(eq + 1) : TAKES_VALUE.has(flag) ? parent[i + 1] : undefined;
    const consumed = !hasInlineValue && TAKES_VALUE.has(flag) ? 1 : 0;
    const drop =
      DROP_FLAGS.test(flag) ||
      DROP_SHORT.has(flag) ||
      (['--import', '--require', '-r', '--loader', '--experimental-loader'].includes(flag) && value !== undefined && isTsx(value));
    if (!drop) out.push(...parent.slice(i, i + 1 + consumed));
    i += consumed;
  }
  // From dist/ the worker is JavaScript: its runtime registers tsx itself if a task module is TypeScript.
  if (!fromSource) return out;
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx');
  } catch (err) {
    throw new Error(`The processes executor needs the tsx package to run TypeScript in worker processes, and it could not be found: ${(err as Error).message}`, { cause: err });
  }
  out.push('--import', tsx);
  return out;
}

function setRef(child: ChildProcess, on: boolean): void {
  const targets: ({ ref(): unknown; unref(): unknown } | null | undefined)[] = [child, child.channel, child.stdout as unknown as Socket | null, child.stderr as unknown as Socket | null];
  for (const t of targets) {
    if (t && typeof t.ref === 'function') {
      if (on) t.ref();
      else t.unref();
    }
  }
}

export class ProcessExecutor extends WorkerPool implements Executor {
  readonly name = 'processes';
  private readonly config: WorkerConfig;
  private execArgv: string[] | undefined;

  constructor(options: ProcessExecutorOptions) {
    super({
      workers: options.workers,
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      ...(options.recycleAfter !== undefined ? { recycleAfter: options.recycleAfter } : {}),
    });
    this.config = { artifactsRoot: options.artifactsRoot, ...(options.inlineLimit !== undefined ? { inlineLimit: options.inlineLimit } : {}) };
  }

  protected spawn(events: WorkerEvents): WorkerHandle {
    this.execArgv ??= workerExecArgv();
    const child = fork(fileURLToPath(siblingModule(import.meta.url, 'worker')), [JSON.stringify(this.config)], {
      execArgv: this.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // A worker exits when its IPC channel closes, but not while a task blocks its event loop: the guardian kills
    // it if the engine dies (and the worker's own guardian then kills the command groups it started).
    const unguard = child.pid ? guardProcess(child.pid) : () => undefined;
    const label = `worker process ${child.pid ?? '(not started)'}`;
    let ready = false;
    let stderrTail = '';
    let exitedAlready = false;
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));

    // A result waits here until both end markers were read from the pipes.
    let held: Extract<FromWorker, { t: 'done' }> | undefined;
    let heldTimer: NodeJS.Timeout | undefined;
    let lastReleased = 0;
    const marks = new Map<number, number>();
    const release = () => {
      if (!held) return;
      const m = held;
      held = undefined;
      if (heldTimer) clearTimeout(heldTimer);
      heldTimer = undefined;
      marks.delete(m.id);
      lastReleased = m.id;
      events.message(m);
    };
    const onMarker = (id: number) => {
      if (id <= lastReleased) return;
      const n = (marks.get(id) ?? 0) + 1;
      marks.set(id, n);
      if (held?.id === id && n >= 2) release();
    };

    const splitters = {
      stdout: new MarkerSplitter((text) => events.output('stdout', text), onMarker),
      stderr: new MarkerSplitter((text) => {
        stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
        events.output('stderr', text);
      }, onMarker),
    };
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name]!;
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => splitters[name].push(chunk));
    }

    child.on('message', (message: FromWorker) => {
      if (message.t === 'ready') ready = true;
      if (message.t !== 'done') {
        events.message(message);
        return;
      }
      held = message;
      if ((marks.get(message.id) ?? 0) >= 2) release();
      else heldTimer = setTimeout(release, MARKER_WAIT_MS);
    });

    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (description: string) => {
      if (exitedAlready) return;
      exitedAlready = true;
      unguard();
      if (closeTimer) clearTimeout(closeTimer);
      splitters.stdout.flush();
      splitters.stderr.flush();
      release(); // a result that arrived before the exit still counts
      const tail = stderrTail.trim();
      let detail: string | undefined;
      if (!ready && tail) detail = `it failed to start: ${tail.slice(-500)}`;
      else if (/heap out of memory|Reached heap limit/.test(tail)) detail = 'it ran out of JavaScript heap memory (see the attempt\'s stderr)';
      events.exit(description, detail);
      resolveExited();
    };
    child.on('exit', (code, signal) => {
      unguard(); // at once: the pid may be reused from now on
      const description = `${label} exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
      // Wait for the pipes to drain so the last output (a crash report) is delivered before the failure.
      child.once('close', () => finish(description));
      closeTimer = setTimeout(() => finish(description), PIPE_CLOSE_WAIT_MS);
    });
    child.on('error', (err) => {
      // Spawning failed, or a signal could not be sent. Only the former means the worker is gone.
      if (child.pid === undefined) finish(`${label} could not be started: ${err.message}`);
    });

    return {
      label,
      send: (message) => {
        if (message.t === 'run') stderrTail = '';
        if (child.connected) child.send(message);
      },
      // Both ref the child first: the pool waits for it to be gone, so the engine must stay alive until then.
      kill: () => {
        if (exitedAlready) return;
        setRef(child, true);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
      // Recycling: the worker exits by itself when its IPC channel closes; SIGKILL if it has not after 5 s.
      retire: () => {
        if (child.connected) child.disconnect();
        else child.kill('SIGKILL');
        setTimeout(() => {
          if (!exitedAlready) child.kill('SIGKILL');
        }, 5000).unref();
      },
      ref: () => setRef(child, true),
      unref: () => setRef(child, false),
      exited,
    };
  }
}
