// The shared HTTP layer under attack, through the feature server on 127.0.0.1 with a fixed seed: 10,000 malformed
// requests (bad JSON, wrong types, bodies over 1 MiB and one of ~50 MB streamed, deep nesting, many keys, wrong
// methods and content types, bad URLs) get only 4xx — never a 5xx, never a reset — and 200 slow connections
// (headers or body trickled) are closed by the timeouts while good requests keep being answered.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openOnlineStore } from '../src/composition/adapters.ts';
import { entity, featureView } from '../src/features/index.ts';
import { ONLINE_PATH, startFeatureServer } from '../src/features/online/index.ts';
import type { OnlineStore } from '../src/ports/online.ts';

const view = featureView({ name: 'v', entities: [entity({ name: 'k', joinKeys: ['k'] })], source: { path: 'unused.csv' }, timestampField: 'ts', ttlMs: null, features: { a: 'BIGINT' } });
const GOOD = JSON.stringify({ features: ['v:a'], entities: [{ k: 'x' }, { k: 'nope' }] });
const GOOD_ROWS = [{ k: 'x', a: 7 }, { k: 'nope', a: null }];
const JSON_TYPE = { 'content-type': 'application/json' };
const MiB = 1 << 20;

let dir: string;
let online: OnlineStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-http-fuzz-'));
  online = await openOnlineStore(join(dir, 'online.db'));
  await online.write('v', view.version, [{ key: ['x'], ts: 1, values: { a: 7 } }]);
});
after(async () => {
  await online.close();
  rmSync(dir, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req {
  kind: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A string, or a writer that streams the body and ends the request. */
  body?: string | ((req: ClientRequest) => Promise<void>);
}

function send(base: URL, agent: Agent, r: Req): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(new Error(`${r.kind} ${r.method} ${r.path.slice(0, 80)}: ${err.message}`)));
    if (typeof r.body === 'function') r.body(req).catch(reject);
    else req.end(r.body);
  });
}

/** Streams `total` bytes of a JSON-looking body in 64 KiB chunks, honouring backpressure, without Content-Length. */
const stream = (total: number) => async (req: ClientRequest) => {
  const chunk = Buffer.alloc(64 * 1024, '[1,');
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
  }
  req.end();
};

function malformed(r: () => number, i: number): Req {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const post = (kind: string, body: string, headers: Record<string, string> = JSON_TYPE): Req => ({ kind, method: 'POST', path: ONLINE_PATH, headers, body });
  // Rare, heavy kinds at fixed indexes, so the run time is bounded whatever the seed.
  if (i === 5_000) return { kind: 'stream-50MB', method: 'POST', path: ONLINE_PATH, headers: JSON_TYPE, body: stream(50 * MiB) };
  if (i % 1_000 === 7) return post('over-1MiB', 'x'.repeat(MiB + 1 + int(2 * MiB)));
  if (i % 1_000 === 11) return { kind: 'stream-over-1MiB', method: 'POST', path: ONLINE_PATH, headers: JSON_TYPE, body: stream(MiB + int(3 * MiB)) };
  if (i % 500 === 13) return post('many-keys', JSON.stringify({ features: ['v:a'], entities: [Object.fromEntries(Array.from({ length: 10_001 + int(5_000) }, (_, j) => [`f${j}`, j]))] }));
  if (i % 200 === 17) {
    const n = 65 + int(20_000);
    return post('deep', `{"features":["v:a"],"entities":[{"k":"x","f":${'['.repeat(n)}${']'.repeat(n)}}]}`);
  }
  switch (int(9)) {
    case 0: {
      const cut = GOOD.slice(0, int(GOOD.length - 1));
      return post('bad-json', pick([cut, `${GOOD}}`, GOOD.replace(':', ''), "{'features': []}", 'nul', '{"a":1,}', '\u0000', `${GOOD}garbage`, '[' + '{'.repeat(int(50))]));
    }
    case 1:
      return post(
        'wrong-types',
        JSON.stringify(
          pick<unknown>([
            null, 42, 'str', [], [GOOD], {},
            { features: 'v:a', entities: [{ k: 'x' }] },
            { features: [1, 2], entities: [{ k: 'x' }] },
            { features: ['v:a'], entities: 'x' },
            { features: ['v:a'], entities: [] },
            { features: ['v:a'], entities: [null] },
            { features: ['v:a'], entities: [[1]] },
            { features: ['v:a'], entities: [{}] },
            { features: ['v:a'], entities: [{ k: { nested: true } }] },
            { features: ['v:a'], entities: [{ k: [1, 2] }] },
            { features: ['v:a'], entities: [{ k: 'x' }], fullFeatureNames: 'yes' },
            { features: ['nope:a'], entities: [{ k: 'x' }] },
            { features: ['v:nope'], entities: [{ k: 'x' }] },
            { features: ['v'], entities: [{ k: 'x' }] },
            { features: ['v:a:b'], entities: [{ k: 'x' }] },
            { features: [], entities: [{ k: 'x' }] },
            { __proto__: { features: ['v:a'] }, entities: [{ k: 'x' }] },
          ]),
        ),
      );
    case 2: {
      const path = pick([ONLINE_PATH, '/health', '/ready']);
      const method = path === ONLINE_PATH ? pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) : pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      return { kind: 'wrong-method', method, path, headers: JSON_TYPE, body: undefined };
    }
    case 3:
      return post('wrong-content-type', GOOD, pick<Record<string, string>>([{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }, { 'content-type': 'application/json; charset=latin1' }, { 'content-type': 'application/xml' }, { 'content-type': 'json' }, { 'content-type': ';;;' }, {}]));
    case 4: {
      const path = pick(['/', '//', '/%', '/%zz', '/%E0%A4%A', '/features', '/features/online/', '/features/online/x', '/FEATURES/ONLINE', '/features/online/..%2f..%2fetc', '/features/online?%%=%', '/?q=' + 'a'.repeat(int(4_000)), '/' + 'x'.repeat(int(4_000)), '/\u00e9'.replace('\u00e9', '%C3%A9'), '/health/x', '/..', '/./features/online']);
      return { kind: 'bad-url', method: pick(['GET', 'POST']), path, headers: JSON_TYPE, body: pick([undefined, '{']) };
    }
    case 5:
      return post('empty', pick(['', ' ', '\n', '""', '0', 'true']));
    case 6: {
      // Break the JSON at structural characters (a flip inside a value could leave a valid request).
      const structural = [...GOOD].flatMap((c, j) => ('{}[]":,'.includes(c) ? [j] : []));
      const body = [...GOOD];
      for (let j = 0; j < 1 + int(3); j++) body[pick(structural)] = pick(['', ' ', '}', ']', '{', '[', ',', ':', "'", '\\', 'x', '\u0000']);
      const text = body.join('');
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      return post('byte-flips', valid ? `${text}}` : text);
    }
    case 7:
      return post('bad-join-keys', pick(['{"features":["v:a"],"entities":[{"k":1e999999}]}', '{"features":["v:a"],"entities":[{"k":null}]}', '{"features":["v:a"],"entities":[{"k":{}}]}', '{"features":["v:a"],"entities":[{"k":[]}]}', '{"features":["v:a"],"entities":[{"kk":"x"}]}']));
    default:
      return post('not-json-text', pick([`\ufeff${GOOD}`, `// comment\n${GOOD}`, `${GOOD}\n${GOOD}`, 'features=v:a&entities=x', '<xml/>', 'undefined', 'NaN', `[${GOOD}`]));
  }
}

test('10,000 malformed requests get only 4xx — no 5xx, no reset — and a good request is answered afterwards', async () => {
  const server = await startFeatureServer({ online, views: [view] });
  const base = new URL(server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const r = rng(15_003);
  const byKind = new Map<string, Map<number, number>>();
  try {
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        const req = malformed(r, i);
        const res = await send(base, agent, req).catch((err: Error) => ({ status: -1, body: err.message }));
        const counts = byKind.get(req.kind) ?? new Map<number, number>();
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        byKind.set(req.kind, counts);
        if (res.status < 400 || res.status >= 500) failures.push(`#${i} ${req.kind} ${req.method} ${req.path.slice(0, 60)} → ${res.status} ${res.body.slice(0, 200)}`);
        else if (req.method !== 'HEAD') {
          const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
          if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') failures.push(`#${i} ${req.kind}: not an error body: ${res.body.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const summary = [...byKind].map(([k, m]) => `${k}: ${[...m].map(([s, n]) => `${s}×${n}`).join(' ')}`).join('; ');
    assert.deepEqual(failures.slice(0, 10), [], summary);
    assert.equal([...byKind.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0), 10_000);
    // The statuses each kind must get, not just "some 4xx".
    for (const [kind, status] of [['over-1MiB', 413], ['stream-over-1MiB', 413], ['stream-50MB', 413], ['many-keys', 400], ['deep', 400], ['wrong-content-type', 415], ['bad-json', 400]] as const) {
      assert.deepEqual([...byKind.get(kind)!.keys()], [status], `${kind}: ${summary}`);
    }
    const good = await send(base, agent, { kind: 'good', method: 'POST', path: ONLINE_PATH, headers: JSON_TYPE, body: GOOD });
    assert.equal(good.status, 200, good.body);
    assert.deepEqual((JSON.parse(good.body) as { rows: unknown }).rows, GOOD_ROWS);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test('an entity field nested just within the depth limit is echoed back; one level deeper is a 400, never a 500', async () => {
  const server = await startFeatureServer({ online, views: [view] });
  try {
    const post = (depth: number) => fetch(`${server.url}${ONLINE_PATH}`, { method: 'POST', headers: JSON_TYPE, body: `{"features":["v:a"],"entities":[{"k":"x","f":${'['.repeat(depth)}${']'.repeat(depth)}}]}` });
    const ok = await post(61); // body object + entities array + entity object + 61 = 64 levels
    assert.equal(ok.status, 200);
    assert.equal(JSON.stringify(((await ok.json()) as { rows: { f: unknown }[] }).rows[0]!.f), '['.repeat(61) + ']'.repeat(61));
    const deep = await post(5_000);
    assert.equal(deep.status, 400);
    assert.match(((await deep.json()) as { error: { message: string } }).error.message, /more than 64 levels deep/);
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 200);
  } finally {
    await server.close();
  }
});

/** Opens a raw connection that trickles a request (headers or body) a few bytes at a time; resolves when the server closes it. */
function trickle(base: URL, part: 'headers' | 'body'): Promise<{ answered: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket: Socket = connect(Number(base.port), base.hostname);
    let answered = '';
    let timer: NodeJS.Timeout | undefined;
    const head = `POST ${ONLINE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n`;
    const rest = part === 'headers' ? `${head.slice(20)}X-Slow: ${'a'.repeat(10_000)}` : '\r\n' + GOOD.padEnd(100_000, ' ');
    let at = 0;
    socket.on('connect', () => {
      socket.write(part === 'headers' ? head.slice(0, 20) : head);
      timer = setInterval(() => {
        if (at < rest.length && socket.writable) socket.write(rest.slice(at, (at += 2)));
      }, 50);
    });
    socket.on('data', (d: Buffer) => (answered += d.toString('latin1')));
    socket.on('error', () => {}); // a reset after the server gave up on this client is fine here
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answered: answered.split('\r\n')[0] ?? '', ms: Date.now() - t0 });
    });
  });
}

test('200 slow connections (headers or body trickled) are closed by the timeouts without blocking good requests', async () => {
  const server = await startFeatureServer({ online, views: [view], http: { headersTimeoutMs: 500, bodyTimeoutMs: 1_000 } });
  const base = new URL(server.url);
  try {
    const slow = Array.from({ length: 200 }, (_, i) => trickle(base, i % 2 === 0 ? 'headers' : 'body'));
    // While all 200 are held open, good requests are answered.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}${ONLINE_PATH}`, { method: 'POST', headers: JSON_TYPE, body: GOOD });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { rows: unknown }).rows, GOOD_ROWS);
    }
    const closed = await Promise.all(slow);
    const longest = Math.max(...closed.map((c) => c.ms));
    // Closed by the timeouts (1.5 s here, plus the checking interval and a busy machine: 10 s allowed), not by the trickle
    // ending: the headers alone would take ~4 min, the body ~40 min.
    assert.ok(longest < 10_000, `the slowest connection was held ${longest} ms`);
    const answers = new Set(closed.map((c) => c.answered));
    for (const a of answers) assert.ok(a === '' || /^HTTP\/1\.1 408 /.test(a), `unexpected answer ${a}`);
    const res = await fetch(`${server.url}${ONLINE_PATH}`, { method: 'POST', headers: JSON_TYPE, body: GOOD });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { rows: unknown }).rows, GOOD_ROWS);
  } finally {
    await server.close();
  }
});
