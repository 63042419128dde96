/**
 * Parent-death guard: processes this process starts die with it, even when it is SIGKILLed and none of its code
 * runs. Command tasks run in their own process group (so cancel and timeout can kill the whole group), which also
 * takes them out of the engine's group: without a guard, a SIGKILL of the engine's group leaves them running under
 * PID 1, and a resumed run starts them again beside the old copies.
 *
 * How: one small guardian process per owner (a process, or a worker thread: modules load once per thread), started
 * on the first registration. The owner holds the write end of a pipe to the guardian's stdin and writes `+g<pgid>`
 * / `-g<pgid>` (a process group) or `+p<pid>` / `-p<pid>` (one process) lines as it starts and reaps them. The
 * kernel closes that pipe when the owner exits, however it dies; at end-of-file the guardian sends SIGTERM to every
 * target still registered, SIGKILL to those still there after the grace period, and exits. Pipes are created
 * close-on-exec, so no child keeps the write end open. The guardian runs in its own session (`detached`), out of
 * reach of a signal sent to the owner's group.
 *
 * Limits: a target is registered right after spawn() returns; an owner killed in the microseconds between the two
 * leaves that one target unguarded. A task that ignores SIGTERM runs on for up to the grace period after its owner
 * died. The guardian uses POSIX process groups: on Windows nothing is guarded.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Time targets get between SIGTERM and SIGKILL once their owner died: BATON_GUARD_GRACE_MS, @default 2000. */
export const GUARD_GRACE_MS = Number(process.env.BATON_GUARD_GRACE_MS) > 0 ? Number(process.env.BATON_GUARD_GRACE_MS) : 2000;

// Plain JavaScript, run with `node -e` so the guardian starts fast (no TypeScript loader) whatever loaded Baton.
const GUARDIAN_SOURCE = `
const grace = Number(process.env.BATON_GUARD_GRACE_MS) || 2000;
const targets = new Set();
let pending = '';
const signal = (t, sig) => {
  try { process.kill(t[0] === 'g' ? -Number(t.slice(1)) : Number(t.slice(1)), sig); return true; }
  catch (e) { return e.code === 'EPERM'; }
};
let ended = false;
const end = () => {
  if (ended) return;
  ended = true;
  let live = [...targets].filter((t) => signal(t, 'SIGTERM'));
  const deadline = Date.now() + grace;
  const check = () => {
    live = live.filter((t) => signal(t, 0));
    if (live.length === 0) process.exit(0);
    if (Date.now() >= deadline) { for (const t of live) signal(t, 'SIGKILL'); process.exit(0); }
    setTimeout(check, 20);
  };
  check();
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    if (/^\\+[gp]\\d+$/.test(line)) targets.add(line.slice(1));
    else if (/^-[gp]\\d+$/.test(line)) targets.delete(line.slice(1));
  }
});
process.stdin.on('end', end);
process.stdin.on('error', end);
process.stdout.on('error', () => {});
process.stdout.write('ready\\n');
`;

let guardian: ChildProcess | undefined;
let ready: Promise<void> = Promise.resolve();
const registered = new Set<string>();

function start(): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, BATON_GUARD_GRACE_MS: String(GUARD_GRACE_MS) };
  delete env.NODE_OPTIONS; // a loader or inspector meant for the engine would slow or break the guardian
  const child = spawn(process.execPath, ['-e', GUARDIAN_SOURCE], { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env });
  child.unref();
  // Until the guardian runs in its own session, a kill of this process's group would take it down too.
  let started = false;
  ready = new Promise<void>((resolve) => {
    const stdout = child.stdout!;
    stdout.once('data', () => {
      started = true;
      resolve();
    });
    stdout.once('close', resolve);
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  const stdin = child.stdin!;
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => undefined); // the guardian died: handled on 'exit'
  child.on('error', () => undefined);
  child.on('exit', () => {
    // Killed from outside: start another for what is still registered (not if it could not even start: no loop).
    if (guardian !== child) return;
    guardian = undefined;
    if (started && registered.size > 0) {
      const next = ensure();
      for (const t of registered) next?.stdin?.write(`+${t}\n`);
    }
  });
  return child;
}

function ensure(): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    guardian ??= start();
  } catch {
    return undefined; // out of processes: the task still runs, unguarded, as it did before guards existed
  }
  return guardian;
}

function guard(target: string): () => void {
  const g = ensure();
  if (!g) return () => undefined;
  registered.add(target);
  g.stdin?.write(`+${target}\n`);
  return () => {
    if (!registered.delete(target)) return;
    guardian?.stdin?.write(`-${target}\n`);
  };
}

/**
 * Starts the guardian if needed and resolves once it runs in its own session, out of reach of a signal to this
 * process's group. Await it before starting a process to guard: a group kill in between would otherwise take the
 * guardian down with its owner (a real risk on a loaded machine, where a new process may wait long to run).
 */
export function guardianReady(): Promise<void> {
  ensure();
  return ready;
}

/**
 * Kills process group `pgid` (SIGTERM, then SIGKILL after GUARD_GRACE_MS) if this process or thread dies before the
 * returned function is called. Call that function once the group is gone (after the leader was reaped).
 */
export function guardGroup(pgid: number): () => void {
  return guard(`g${pgid}`);
}

/** Like guardGroup, for one process (a worker process in the engine's own group). */
export function guardProcess(pid: number): () => void {
  return guard(`p${pid}`);
}

/** The guardian's pid, if one is running (for tests). */
export function guardianPid(): number | undefined {
  return guardian?.pid;
}
