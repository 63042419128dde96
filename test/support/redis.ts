// One isolated key namespace per caller, on one shared Redis server.
//
// The server is BATON_TEST_REDIS_URL when set, otherwise a private redis-server started with
// scripts/services/redis.mjs once per process (installed with apt-get when missing and running as root) and killed
// when the process exits. `redisUnavailable()` says why no server could be had — only a redis-server that is missing
// and cannot be installed counts; any other failure is thrown.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface RedisServiceModule {
  startRedis(options?: { quiet?: boolean }): Promise<RedisServer>;
}

export interface FreshNamespace {
  /** The server URL with `?prefix=` set to the namespace: open an online store on it. */
  url: string;
  prefix: string;
  /** Deletes every key of the namespace. */
  drop(): Promise<void>;
}

// Imported through a URL so TypeScript does not need a declaration file for the plain-JavaScript script.
const serviceModuleUrl = new URL('../../scripts/services/redis.mjs', import.meta.url).href;

/** Starts a private redis-server (the caller stops it). */
export async function startPrivateRedis(): Promise<RedisServer> {
  const { startRedis } = (await import(serviceModuleUrl)) as RedisServiceModule;
  return startRedis({ quiet: true });
}

let server: Promise<string> | undefined;

async function serverUrl(): Promise<string> {
  const fromEnv = process.env.BATON_TEST_REDIS_URL;
  if (fromEnv) return fromEnv;
  server ??= startPrivateRedis().then((s) => s.url); // the service's exit hook kills it
  server.catch(() => {
    server = undefined;
  });
  return server;
}

/** Null when a Redis server is available; otherwise why not (a missing redis-server that cannot be installed). */
export async function redisUnavailable(): Promise<string | null> {
  try {
    await serverUrl();
    return null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/could not be installed|was not found/.test(message)) return `redis unavailable: ${message.split('\n')[0]}`;
    throw err;
  }
}

export async function freshRedisNamespace(): Promise<FreshNamespace> {
  const base = await serverUrl();
  const prefix = `t${randomBytes(6).toString('hex')}:`;
  const url = new URL(base);
  url.searchParams.set('prefix', prefix);
  return {
    url: url.toString(),
    prefix,
    async drop() {
      const client = new Redis(base, { lazyConnect: true });
      await client.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await client.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        await client.quit();
      }
    },
  };
}
