/** Shared helpers: a platform on a fresh temp dir, unique salts, run verification, commit counting. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPlatform, type Platform, type PlatformConfig, type RunOutcome } from '../src/composition/index.ts';

/** Unique per call: part of every task input, so nothing is ever a cache hit. */
export function newSalt(): string {
  return `${process.pid}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export const ms = (ns: bigint): number => Number(ns) / 1e6;

/**
 * Opens a platform (SQLite store, local artifacts) in a fresh temp dir, calls fn, closes it and removes the dir.
 * `store` may use `<tmp>` for the dir, e.g. `sqlite:<tmp>/baton.db?sync=full`.
 */
export async function withTempPlatform<T>(config: PlatformConfig & { store?: string }, fn: (platform: Platform, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  try {
    const platform = await openPlatform({ executor: 'inline', ...config, cwd: dir, ...(config.store ? { store: config.store.replace('<tmp>', dir) } : {}) });
    try {
      return await fn(platform, dir);
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const commitStats = new WeakMap<Platform, { count: number; ms: number }>();

/**
 * Store transactions (each `apply` is one commit) and the time spent in them, counted from the first call on this
 * platform on: take the difference of two readings.
 */
export function commits(platform: Platform): { count: number; ms: number } {
  let stats = commitStats.get(platform);
  if (!stats) {
    const s = { count: 0, ms: 0 };
    stats = s;
    commitStats.set(platform, s);
    const store = platform.store;
    const apply = store.apply.bind(store);
    store.apply = async (mutations) => {
      s.count++;
      const t0 = process.hrtime.bigint();
      try {
        return await apply(mutations);
      } finally {
        s.ms += ms(process.hrtime.bigint() - t0);
      }
    };
  }
  return { ...stats };
}

export interface RunCheck {
  taskNodes: number;
  cacheHits: number;
}

/**
 * Checks that the run did what the benchmark claims: it succeeded, ran `expectTasks` task nodes, all succeeded,
 * none of them from the cache. Throws otherwise (a broken benchmark must not print a figure). Not a timing check.
 */
export async function verifyRun(platform: Platform, outcome: RunOutcome, expectTasks: number): Promise<RunCheck> {
  if (outcome.status !== 'succeeded') throw new Error(`run ${outcome.runId} ended ${outcome.status}: ${outcome.error ?? ''}`);
  const nodes = await platform.store.getNodes(outcome.runId);
  const tasks = nodes.filter((n) => n.spec.kind === 'task');
  const cacheHits = nodes.filter((n) => n.cachedFrom !== undefined).length;
  const notOk = tasks.filter((n) => n.state !== 'succeeded');
  if (tasks.length !== expectTasks) throw new Error(`run ${outcome.runId} has ${tasks.length} task nodes, expected ${expectTasks}`);
  if (notOk.length) throw new Error(`run ${outcome.runId}: ${notOk.length} task node(s) did not succeed, e.g. ${notOk[0]!.id} is ${notOk[0]!.state}`);
  if (cacheHits) throw new Error(`run ${outcome.runId}: ${cacheHits} node(s) were cache hits; the benchmark must measure real executions`);
  return { taskNodes: tasks.length, cacheHits };
}

/** The decoded output of a run whose output is stored inline. */
export function inlineOutput(outcome: RunOutcome): unknown {
  return outcome.output?.json !== undefined ? JSON.parse(outcome.output.json) : undefined;
}

export const fmt = (v: number, digits = 3): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(digits));
