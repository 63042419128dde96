/**
 * Picks adapters by URL: the one place that maps configuration to vendor-backed implementations.
 */
import { BatonError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { MetadataStore } from '../ports/metadata.ts';
import type { OnlineStore } from '../ports/online.ts';
import { LocalArtifactStore } from '../stores/artifacts/local/store.ts';
import { openSqliteDriver } from '../stores/metadata/sqlite/driver.ts';
import { SqlMetadataStore } from '../stores/metadata/sql/store.ts';
import { SqliteOnlineStore } from '../stores/online/sqlite/store.ts';

export async function openMetadataStore(url: string): Promise<MetadataStore> {
  let store: MetadataStore;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // pg and ioredis load only when a URL asks for them.
    const { openPostgresDriver } = await import('../stores/metadata/postgres/driver.ts');
    store = new SqlMetadataStore(openPostgresDriver(url));
  } else if (url.startsWith('sqlite:')) {
    const [path, query] = url.slice('sqlite:'.length).split('?');
    const params = new URLSearchParams(query ?? '');
    const sync = params.get('sync');
    const busy = params.get('busyTimeoutMs');
    store = new SqlMetadataStore(openSqliteDriver(path || '.baton/baton.db', { ...(sync === 'full' ? { sync: 'full' as const } : {}), ...(busy ? { busyTimeoutMs: Number(busy) } : {}) }));
  } else {
    throw new BatonError('usage', `Unknown metadata store URL "${url}". Use sqlite:PATH (embedded, the default) or postgres://USER@HOST:PORT/DB.`);
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

export function openArtifactStore(url: string): ArtifactStore {
  if (url.startsWith('file:')) return new LocalArtifactStore(url.slice('file:'.length));
  throw new BatonError('usage', `Unknown artifact store URL "${url}". Use file:PATH (the default is file:.baton/artifacts).`);
}

/**
 * The online feature store for a URL: `redis://HOST:PORT/DB` or `rediss://…` (distributed: Redis), else a SQLite
 * file — `sqlite:PATH` or a plain path (embedded). Any other `scheme://` is refused, so a typo never silently
 * becomes a SQLite file named after a URL.
 */
export async function openOnlineStore(url: string): Promise<OnlineStore> {
  if (/^rediss?:\/\//i.test(url)) return (await import('../stores/online/redis/store.ts')).RedisOnlineStore.open({ url });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new BatonError('usage', `Unknown online store URL "${url}". Use redis://HOST:PORT/DB (Redis) or a file path / sqlite:PATH (embedded SQLite, the default .baton/online.db).`);
  }
  return SqliteOnlineStore.open({ path: url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url });
}
