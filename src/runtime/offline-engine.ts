/**
 * One OfflineEngine per process, opened on first use. The adapter is imported dynamically, so a worker whose tasks
 * never touch datasets never loads DuckDB.
 */
import type { OfflineEngine } from '../ports/offline.ts';

let shared: Promise<OfflineEngine> | undefined;

export function sharedOfflineEngine(): Promise<OfflineEngine> {
  if (!shared) {
    const opening = import('../stores/offline/duckdb/engine.ts').then(({ DuckDBOfflineEngine }) => DuckDBOfflineEngine.open() as Promise<OfflineEngine>);
    opening.catch(() => (shared = undefined)); // let a later call try again
    shared = opening;
  }
  return shared;
}
