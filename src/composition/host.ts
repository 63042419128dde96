/**
 * This machine and process as the engine sees them (the Host port): the host name and pid an engine registers
 * with, and whether another engine's process on this host is still alive.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Host } from '../ports/clock.ts';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent has not reaped it yet is a zombie: it answers signals but runs nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export const systemHost: Host = { hostname: hostname(), pid: process.pid, isProcessAlive };
