// Runs the OnlineStore conformance suite against every adapter — SQLite (a temp file) and Redis (a real
// redis-server: BATON_TEST_REDIS_URL, or a private one started for this file; one fresh key prefix per test) — then
// what only the Redis adapter has: its Feast-style layout, the purge of an old definition's values, prefixes,
// URLs, and the errors a user sees when Redis is down.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openOnlineStore } from '../src/composition/adapters.ts';
import { resolveConfig } from '../src/composition/config.ts';
import { BatonError } from '../src/errors.ts';
import { entity, featureView } from '../src/features/index.ts';
import { ONLINE_PATH, startFeatureServer } from '../src/features/online/index.ts';
import { onlineConformance } from '../src/stores/online/conformance.ts';
import { WRITE } from '../src/stores/online/redis/scripts.ts';
import { RedisOnlineStore } from '../src/stores/online/redis/store.ts';
import { SqliteOnlineStore } from '../src/stores/online/sqlite/store.ts';
import { freshRedisNamespace, redisUnavailable, startPrivateRedis } from './support/redis.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-online-'));
  dirs.push(dir);
  return dir;
};

const isCode = (code: string, pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BatonError, `expected a BatonError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

onlineConformance('sqlite', async () => {
  const path = join(tempDir(), 'online.db');
  const store = SqliteOnlineStore.open({ path });
  return { store, reopen: async () => SqliteOnlineStore.open({ path }), dispose: () => store.close() };
});

const skip = (await redisUnavailable()) ?? undefined;

onlineConformance(
  'redis',
  async () => {
    const ns = await freshRedisNamespace();
    const store = await openOnlineStore(ns.url);
    return {
      store,
      reopen: () => openOnlineStore(ns.url),
      dispose: async () => {
        await store.close();
        await ns.drop();
      },
    };
  },
  skip ? { skip } : {},
);

describe('Redis online store', skip ? { skip } : {}, () => {
  const withRaw = async (fn: (store: RedisOnlineStore, raw: Redis, prefix: string) => Promise<void>) => {
    const ns = await freshRedisNamespace();
    const store = await RedisOnlineStore.open({ url: ns.url });
    const raw = new Redis(ns.url.split('?')[0]!);
    try {
      await fn(store, raw, ns.prefix);
    } finally {
      await store.close();
      await raw.quit();
      await ns.drop();
    }
  };

  it('stores one hash per entity key, with _ts:VIEW and VIEW:FEATURE fields, shared by the views of that key', () =>
    withRaw(async (store, raw, prefix) => {
      await store.write('origin_stats', 'v1', [{ key: ['SEA'], ts: 1_704_844_800_000, values: { avg_delay: 1.5, code: 'A' } }]);
      await store.write('airport_load', 'w1', [{ key: ['SEA'], ts: 5, values: { load: null } }]);
      await store.setWatermark('origin_stats', 'v1', 1_704_844_800_000);
      assert.deepEqual(await raw.hgetall(`${prefix}e:["SEA"]`), {
        '_ts:origin_stats': '1:1704844800000',
        'origin_stats:avg_delay': '1.5',
        'origin_stats:code': '"A"',
        '_ts:airport_load': '1:5',
        'airport_load:load': 'null',
      });
      assert.deepEqual(await raw.hgetall(`${prefix}view:origin_stats`), { version: 'v1', gen: '1', watermark: '1704844800000' });
    }));

  it('a new version purges the old definition’s values from every entity hash, leaving other views alone', () =>
    withRaw(async (store, raw, prefix) => {
      const rows = Array.from({ length: 3_000 }, (_, i) => ({ key: [`k${i}`], ts: 1, values: { a: i, b: i } }));
      await store.write('v', 'v1', rows);
      await store.write('other', 'o1', [{ key: ['k1'], ts: 1, values: { x: 1 } }]);
      assert.equal((await raw.keys(`${prefix}e:*`)).length, 3_000);
      await store.write('v', 'v2', [{ key: ['k0'], ts: 1, values: { c: 0 } }]);
      assert.deepEqual((await raw.keys(`${prefix}e:*`)).sort(), [`${prefix}e:["k0"]`, `${prefix}e:["k1"]`]);
      assert.deepEqual(await raw.hgetall(`${prefix}e:["k0"]`), { '_ts:v': '2:1', 'v:c': '0' });
      assert.deepEqual(await raw.hgetall(`${prefix}e:["k1"]`), { '_ts:other': '1:1', 'other:x': '1' });
    }));

  it('a writer still holding an older definition’s generation never overwrites the newer one’s values', () =>
    withRaw(async (store, raw, prefix) => {
      await store.write('v', 'v1', [{ key: ['k'], ts: 1, values: { a: 'v1' } }]);
      await store.write('v', 'v2', [{ key: ['k'], ts: 1, values: { a: 'v2' } }]);
      // What a v1 materialization that read generation 1 just before the version change would send next: a newer ts.
      const key = `${prefix}e:["k"]`;
      assert.equal(await raw.eval(WRITE, 1, key, 'v', 1, '999', 'v:a', '"stale"'), 0);
      assert.deepEqual(await store.read('v', [['k']]), [{ ts: 1, values: { a: 'v2' } }]);
      assert.equal(await raw.eval(WRITE, 1, key, 'v', 2, '999', 'v:a', '"newer"'), 1, 'the same generation with a newer ts is written');
      assert.deepEqual(await store.read('v', [['k']]), [{ ts: 999, values: { a: 'newer' } }]);
    }));

  it('prefixes isolate stores on one database: the URL’s ?prefix= and the prefix option', async () => {
    const a = await freshRedisNamespace();
    const b = await freshRedisNamespace();
    const sa = await RedisOnlineStore.open({ url: a.url });
    const sb = await RedisOnlineStore.open({ url: a.url, prefix: b.prefix });
    try {
      assert.equal(sa.prefix, a.prefix);
      assert.equal(sb.prefix, b.prefix);
      await sa.write('v', '1', [{ key: ['k'], ts: 1, values: { who: 'a' } }]);
      assert.equal(await sb.watermark('v'), null);
      await assert.rejects(sb.read('v', [['k']]), isCode('not_found'));
      await sb.write('v', '1', [{ key: ['k'], ts: 1, values: { who: 'b' } }]);
      assert.deepEqual((await sa.read('v', [['k']]))[0]?.values, { who: 'a' });
      assert.deepEqual((await sb.read('v', [['k']]))[0]?.values, { who: 'b' });
    } finally {
      await sa.close();
      await sb.close();
      await a.drop();
      await b.drop();
    }
  });

  it('refuses view names that would make fields ambiguous', () =>
    withRaw(async (store) => {
      await assert.rejects(store.write('a:b', '1', []), isCode('data_invalid', /view named "a:b".*without ":"/));
      await assert.rejects(store.read('_ts', [['k']]), isCode('data_invalid', /not "_ts"/));
    }));

  it('an unreachable server: open fails fast naming the URL (password hidden) and the fix', async () => {
    const t0 = Date.now();
    await assert.rejects(
      openOnlineStore('redis://user:s3cret@127.0.0.1:1/0'),
      isCode('store', /^Cannot reach the Redis online store at redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0 \(.*ECONNREFUSED.*\)\. Start Redis there .*--online \/ BATON_ONLINE.*SQLite/),
    );
    assert.ok(Date.now() - t0 < 15_000, 'no retry loop (a retrying client would hang far longer; loose for a busy machine)');
    await assert.rejects(openOnlineStore('redis://user:s3cret@127.0.0.1:1/0'), (err: unknown) => !String((err as Error).message).includes('s3cret'));
  });

  it('a server that goes away: calls fail at once with the same message, not a hang; the feature server answers 503', async () => {
    const server = await startPrivateRedis();
    const store = await openOnlineStore(server.url);
    const view = featureView({ name: 'v', entities: [entity({ name: 'k', joinKeys: ['k'] })], source: { path: 'unused.csv' }, timestampField: 'ts', ttlMs: null, features: { a: 'BIGINT' } });
    const http = await startFeatureServer({ online: store, views: [view] });
    const post = () => fetch(`${http.url}${ONLINE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ['v:a'], entities: [{ k: 'x' }] }) });
    try {
      await store.write('v', view.version, [{ key: ['x'], ts: 1, values: { a: 1 } }]);
      assert.deepEqual(((await (await post()).json()) as { rows: unknown }).rows, [{ k: 'x', a: 1 }]);
      await server.stop();
      await assert.rejects(store.read('v', [['x']]), isCode('store', new RegExp(`Cannot reach the Redis online store at redis://127\\.0\\.0\\.1:${server.port}/? .*Start Redis there`)));
      await assert.rejects(store.write('v', '1', []), isCode('store', /Cannot reach/));
      const res = await post();
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /Cannot reach the Redis online store/);
      const ready = await fetch(`${http.url}/ready`);
      assert.equal(ready.status, 503);
      assert.match(((await ready.json()) as { error: { code: string; message: string } }).error.message, /Cannot reach the Redis online store/);
      assert.equal((await fetch(`${http.url}/health`)).status, 200, 'the process itself is alive');
    } finally {
      await http.close();
      await store.close();
      await server.stop();
    }
  });

  it('bad URLs are usage errors that show the expected form', async () => {
    await assert.rejects(openOnlineStore('redis://localhost:6379/zero'), isCode('usage', /path must be a database number, e\.g\. redis:\/\/localhost:6379\/0/));
    await assert.rejects(openOnlineStore('postgres://localhost/db'), isCode('usage', /Unknown online store URL .*redis:\/\/HOST:PORT\/DB .*sqlite:PATH/));
    await assert.rejects(RedisOnlineStore.open({ url: 'http://x' }), isCode('usage', /not a Redis URL/));
  });
});

describe('openOnlineStore', () => {
  it('the config: online from the option, else BATON_ONLINE (empty counts as unset), else .baton/online.db', () => {
    assert.equal(resolveConfig({ cwd: '/p' }, {}).online, 'sqlite:/p/.baton/online.db');
    assert.equal(resolveConfig({ cwd: '/p' }, { BATON_ONLINE: '' }).online, 'sqlite:/p/.baton/online.db');
    assert.equal(resolveConfig({ cwd: '/p' }, { BATON_ONLINE: 'redis://h:6379/1' }).online, 'redis://h:6379/1');
    assert.equal(resolveConfig({ cwd: '/p', online: 'x.db' }, { BATON_ONLINE: 'redis://h:6379/1' }).online, 'x.db');
  });

  it('a plain path or sqlite:PATH opens the embedded SQLite store', async () => {
    const dir = tempDir();
    const a = await openOnlineStore(join(dir, 'a.db'));
    const b = await openOnlineStore(`sqlite:${join(dir, 'b.db')}`);
    try {
      assert.ok(a instanceof SqliteOnlineStore && a.location === join(dir, 'a.db'));
      assert.ok(b instanceof SqliteOnlineStore && b.location === join(dir, 'b.db'));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
