/**
 * A lazily opened offline engine for one owner (a Platform, or a worker thread or process): DuckDB is imported and
 * opened on the first `get()`, so an owner whose work never touches datasets or features never loads it, and
 * `close()` releases it. Not a module singleton: each owner holds its own.
 */
import type { OfflineEngine } from '../../../ports/offline.ts';

export interface LazyOfflineEngine {
  get(): Promise<OfflineEngine>;
  close(): Promise<void>;
}

export function lazyOfflineEngine(): LazyOfflineEngine {
  let opening: Promise<OfflineEngine> | undefined;
  return {
    get() {
      if (!opening) {
        const p = import('./engine.ts').then(({ DuckDBOfflineEngine }) => DuckDBOfflineEngine.open() as Promise<OfflineEngine>);
        p.catch(() => (opening = undefined)); // let a later call try again
        opening = p;
      }
      return opening;
    },
    async close() {
      const p = opening;
      opening = undefined;
      if (p) await (await p.catch(() => undefined))?.close();
    },
  };
}
