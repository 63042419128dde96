/**
 * Hand-over between copies of one command task on one host. The guardian (guardian.ts) kills a dead engine's
 * commands with SIGTERM, then SIGKILL after its grace period; a command that ignores SIGTERM (a training script
 * that checkpoints on it) would still run during that grace period, beside the copy a quick `baton resume` starts.
 * So each running command records its process group under the temp folder, in a file named for its run and node,
 * and a later copy of the same task waits for that group to be gone before it starts: at most the grace period
 * plus a margin, by when the guardian has SIGKILLed it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUARD_GRACE_MS } from './guardian.ts';

const folder = (): string => join(tmpdir(), 'baton-commands');
const fileOf = (runId: string, nodeId: string): string => join(folder(), createHash('sha256').update(`${runId}\u0000${nodeId}`).digest('hex').slice(0, 32));

/** Whether a process group still has a running (non-zombie) member. */
function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  // kill(0) also succeeds for a group of zombies nobody reaped yet (a container whose PID 1 does not reap): those
  // run nothing.
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      /* gone meanwhile */
    }
  }
  return false;
}

/**
 * Waits until the previous copy of this task on this host (if any is recorded) has no running process left, or
 * the guardian's grace period plus a second has passed. Says on `log` when it waits.
 */
export async function waitForPreviousCopy(runId: string, nodeId: string, log: (text: string) => void, signal: AbortSignal): Promise<void> {
  let pgid: number;
  try {
    pgid = Number(readFileSync(fileOf(runId, nodeId), 'utf8'));
  } catch {
    return;
  }
  if (!Number.isInteger(pgid) || pgid <= 1 || !groupRunning(pgid)) return;
  const limit = GUARD_GRACE_MS + 1000;
  log(`baton: waiting for the previous copy of this task (process group ${pgid}, left by an engine that died) to exit\n`);
  const deadline = Date.now() + limit;
  while (groupRunning(pgid) && !signal.aborted) {
    if (Date.now() >= deadline) {
      log(`baton: the previous copy of this task (process group ${pgid}) still runs after ${limit} ms; starting anyway\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Records the running copy's process group; the returned function removes the record (once it is gone). */
export function recordCopy(runId: string, nodeId: string, pgid: number): () => void {
  const file = fileOf(runId, nodeId);
  try {
    mkdirSync(folder(), { recursive: true });
    writeFileSync(file, String(pgid));
  } catch {
    return () => undefined; // no temp folder: the guardian alone protects
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8') === String(pgid)) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  };
}
