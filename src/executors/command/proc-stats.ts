/**
 * Samples a child process's CPU time and peak resident memory from /proc (Linux) while it runs. Node gives no
 * rusage for children, so this is sampled: a process shorter than the interval may report only its first sample.
 */
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

export function readProcStats(pid: number): { cpuMs?: number; peakRssMb?: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const cutime = Number(fields[13]);
    const cstime = Number(fields[14]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return {
      cpuMs: ((utime + stime + cutime + cstime) * 1000) / TICKS,
      ...(hwm ? { peakRssMb: Number(hwm[1]) / 1024 } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Starts sampling; returns a function that stops it. */
export function sampleProcess(pid: number, onSample: (s: { cpuMs?: number; peakRssMb?: number }) => void, intervalMs = 50): () => void {
  let peak = 0;
  const take = () => {
    const s = readProcStats(pid);
    if (!s) return;
    peak = Math.max(peak, s.peakRssMb ?? 0);
    onSample({ ...(s.cpuMs !== undefined ? { cpuMs: s.cpuMs } : {}), peakRssMb: peak });
  };
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return () => {
    take();
    clearInterval(timer);
  };
}
