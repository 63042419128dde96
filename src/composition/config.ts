/**
 * Platform configuration: where metadata, artifacts and online features live, which executor runs tasks and how
 * much this engine may use. Every field has a default for the embedded mode (everything under .baton/ in the working
 * directory); the same fields come from the CLI flags and BATON_* environment variables.
 */
import { availableParallelism, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExecutorName } from '../sdk/task.ts';

export interface PlatformConfig {
  /** Metadata store URL: `sqlite:PATH` or `postgres://...`. @default sqlite:.baton/baton.db (env BATON_STORE) */
  store?: string;
  /** Artifact store URL: `file:PATH`. @default file:.baton/artifacts (env BATON_ARTIFACTS) */
  artifacts?: string;
  /** Online feature store: `redis://HOST:PORT/DB` (distributed) or a SQLite file, `sqlite:PATH` or a path. @default sqlite:.baton/online.db (env BATON_ONLINE) */
  online?: string;
  /** Executor for tasks that do not choose one. @default 'processes' (env BATON_EXECUTOR) */
  executor?: ExecutorName;
  /** CPU slots. @default the machine's available parallelism (env BATON_CPUS) */
  cpus?: number;
  /** Memory budget in MiB. @default 80% of the machine's memory */
  memoryMB?: number;
  /** GPUs this engine may schedule. @default 0 (env BATON_GPUS) */
  gpus?: number;
  /** Pool limits, merged over the workflow's own. */
  pools?: Record<string, number>;
  /** Worker threads / processes to keep. @default cpus */
  workers?: number;
  /** Base directory for the embedded defaults. @default process.cwd() */
  cwd?: string;
  /** Lease length for task attempts, ms. @default 30000 */
  leaseMs?: number;
  /** Ready tasks an engine keeps claimed beyond its free capacity (throughput vs. sharing work between engines). @default max(64, 8 × cpus) */
  claimAhead?: number;
}

export interface ResolvedConfig {
  store: string;
  artifacts: string;
  online: string;
  executor: ExecutorName;
  cpus: number;
  memoryMB: number;
  gpus: number;
  pools: Record<string, number>;
  workers: number;
  cwd: string;
  leaseMs: number;
  claimAhead?: number;
}

const num = (v: string | undefined): number | undefined => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

export function resolveConfig(c: PlatformConfig = {}, env: Record<string, string | undefined> = process.env): ResolvedConfig {
  const cwd = resolve(c.cwd ?? process.cwd());
  const cpus = c.cpus ?? num(env.BATON_CPUS) ?? availableParallelism();
  return {
    cwd,
    store: c.store ?? env.BATON_STORE ?? `sqlite:${join(cwd, '.baton', 'baton.db')}`,
    artifacts: c.artifacts ?? env.BATON_ARTIFACTS ?? `file:${join(cwd, '.baton', 'artifacts')}`,
    online: c.online ?? (env.BATON_ONLINE || `sqlite:${join(cwd, '.baton', 'online.db')}`), // an empty variable counts as unset
    executor: c.executor ?? (env.BATON_EXECUTOR as ExecutorName | undefined) ?? 'processes',
    cpus,
    memoryMB: c.memoryMB ?? Math.floor((totalmem() / 1024 / 1024) * 0.8),
    gpus: c.gpus ?? num(env.BATON_GPUS) ?? 0,
    pools: c.pools ?? {},
    workers: c.workers ?? Math.max(1, Math.ceil(cpus)),
    leaseMs: c.leaseMs ?? 30_000,
    ...(c.claimAhead !== undefined ? { claimAhead: c.claimAhead } : {}),
  };
}
