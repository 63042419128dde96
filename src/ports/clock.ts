/**
 * Time, timers and process identity come through ports, so engine decisions are deterministic in tests: a run
 * driver can be stepped on a fake clock with fake timers and a fake host (src/engine/driver.test.ts).
 */
export interface Clock {
  now(): number;
}

/** One-shot timers. `set` returns a function that cancels the timer (a no-op once it fired). */
export interface Timers {
  set(ms: number, fn: () => void): () => void;
}

/** Which machine and process this engine is, and whether another process on this machine is alive. */
export interface Host {
  readonly hostname: string;
  readonly pid: number;
  isProcessAlive(pid: number): boolean;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemTimers: Timers = {
  set(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
