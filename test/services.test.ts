import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import pg from 'pg';
import { freshPostgresDatabase } from './support/postgres.ts';

interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface RedisServiceModule {
  startRedis(options?: { quiet?: boolean }): Promise<RedisServer>;
}

// Imported through a URL so TypeScript does not need a declaration file for the plain-JavaScript script.
const redisModuleUrl = new URL('../scripts/services/redis.mjs', import.meta.url).href;

test('freshPostgresDatabase gives an isolated, working database', async () => {
  const db = await freshPostgresDatabase();
  try {
    assert.match(db.url, /\/baton_t_[0-9a-f]+$/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const sum = await client.query<{ two: number }>('select 1 + 1 as two');
      assert.equal(sum.rows[0]?.two, 2);

      const current = await client.query<{ name: string }>('select current_database() as name');
      assert.equal(`/${current.rows[0]?.name}`, new URL(db.url).pathname);

      await client.query('create table items (id integer primary key, label text not null)');
      await client.query('insert into items (id, label) values ($1, $2)', [1, 'héllo']);
      const rows = await client.query<{ id: number; label: string }>('select id, label from items');
      assert.deepEqual(rows.rows, [{ id: 1, label: 'héllo' }]);
    } finally {
      await client.end();
    }
  } finally {
    await db.drop();
  }
});

function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.trimEnd());
      }
    });
    socket.on('error', reject);
  });
}

test('startRedis starts a server that answers PING', async (t) => {
  const { startRedis } = (await import(redisModuleUrl)) as RedisServiceModule;
  let redis: RedisServer;
  try {
    redis = await startRedis({ quiet: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Only a missing, uninstallable redis-server is a reason to skip; any other failure is a real failure.
    if (/could not be installed|was not found/.test(message)) {
      t.skip(`redis unavailable: ${message.split('\n')[0]}`);
      return;
    }
    throw err;
  }
  try {
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.equal(await redisPing(redis.port), '+PONG');
  } finally {
    await redis.stop();
  }
  await assert.rejects(redisPing(redis.port));
});
