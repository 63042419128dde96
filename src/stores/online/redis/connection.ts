/**
 * The Redis online store's connection: parsing its URL, connecting with a bounded wait, and turning ioredis errors
 * into BatonErrors that name the store (password hidden) and say how to fix it.
 *
 * Failure policy: open() fails at once when Redis does not answer (no silent retry loop). Once connected, a lost
 * connection is retried in the background, but commands issued meanwhile fail at once (no offline queue) — a
 * feature server answers an error rather than hanging on a request.
 */
import { Redis } from 'ioredis';
import { BatonError, messageOf } from '../../../errors.ts';

export interface RedisTarget {
  /** The URL for ioredis (without Baton's own `prefix` parameter). */
  url: string;
  /** The URL to show in messages: the password replaced by ***. */
  shown: string;
  /** Key prefix from `?prefix=`, when given. */
  prefix?: string;
}

const EXAMPLE = 'redis://localhost:6379/0';

/** Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=P]` (or rediss:// for TLS). Throws `usage` on a bad URL. */
export function parseRedisUrl(raw: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BatonError('usage', `"${raw}" is not a valid Redis URL. Use ${EXAMPLE} (redis://HOST:PORT/DB).`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new BatonError('usage', `"${raw}" is not a Redis URL (it starts with ${u.protocol}). Use ${EXAMPLE}.`);
  if (u.password) u.password = '***';
  const shown = u.toString();
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new BatonError('usage', `Redis URL ${shown}: the path must be a database number, e.g. ${EXAMPLE}, not "/${db}".`);
  const prefix = u.searchParams.get('prefix') ?? undefined;
  const forClient = new URL(raw);
  forClient.searchParams.delete('prefix');
  return { url: forClient.toString(), shown, ...(prefix !== undefined ? { prefix } : {}) };
}

/** Connects, waiting at most `timeoutMs`; throws a `store` error naming the URL when Redis does not answer. */
export async function connectRedis(target: RedisTarget, timeoutMs: number): Promise<{ client: Redis; lastError: () => Error | undefined }> {
  let opening = true;
  let last: Error | undefined;
  const client = new Redis(target.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    // While opening: fail at once. Later: reconnect in the background, backing off to 2 s.
    retryStrategy: (times) => (opening ? null : Math.min(times * 100, 2_000)),
  });
  client.on('error', (err: Error) => {
    last = err; // kept for messages; without a listener ioredis would print every error
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw unreachable(target.shown, last ?? (err as Error));
  } finally {
    opening = false;
  }
  return { client, lastError: () => last };
}

export function unreachable(shown: string, cause: unknown): BatonError {
  const why = messageOf(cause);
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(why)) {
    return new BatonError('store', `The Redis online store at ${shown} refused the credentials (${why}). Put the right user and password in the URL: redis://USER:PASSWORD@HOST:PORT/DB.`, { cause });
  }
  return new BatonError(
    'store',
    `Cannot reach the Redis online store at ${shown} (${why}). Start Redis there (e.g. \`redis-server --port PORT\`), fix the host, port or password in the URL (--online / BATON_ONLINE), or use the embedded SQLite store by passing a file path instead.`,
    { cause },
  );
}

/** A failed command as a BatonError: unreachable when the connection is down, else what Redis said. */
export function commandError(shown: string, client: Redis, lastError: Error | undefined, err: unknown): BatonError {
  if (err instanceof BatonError) return err;
  if (client.status !== 'ready') return unreachable(shown, lastError ?? err);
  const why = messageOf(err);
  if (/^OOM/.test(why)) return new BatonError('store', `The Redis online store at ${shown} is out of memory (${why}). Raise its maxmemory, or give the feature views a shorter history.`, { cause: err });
  return new BatonError('store', `The Redis online store at ${shown} failed: ${why}`, { cause: err });
}
