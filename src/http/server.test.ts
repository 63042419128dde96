// The shared HTTP layer on a real server: error bodies and statuses from the one table, 404/405 with Allow, 413 read
// by the client (no reset), 415, depth/key limits, a bug is a logged 500 without its stack, /health and /ready.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BatonError } from '../errors.ts';
import { createHttpServer, JsonResponse, type HttpServer } from './server.ts';

let server: HttpServer;
let url: string;
const logged: string[] = [];
let ready = true;

before(async () => {
  server = createHttpServer({ name: 'test server', bodyLimit: 1_000, maxDepth: 4, maxKeys: 5, log: (m) => logged.push(m), ready: () => {
    if (!ready) throw new BatonError('store', 'The store is down. Start it.');
  } });
  server.route({ method: 'POST', path: '/echo', example: '{"a": 1}', handler: ({ body }) => ({ body }) });
  server.route({ method: 'GET', path: '/runs/:id', handler: ({ params }) => (params.id === 'x' ? new JsonResponse(201, { id: 'x' }, { 'x-made': 'yes' }) : Promise.reject(new BatonError('not_found', `No run "${params.id}".`))) });
  server.route({ method: 'GET', path: '/bug', handler: () => Promise.reject(new TypeError('cannot read x of undefined')) });
  server.route({ method: 'GET', path: '/conflict', handler: () => { throw new BatonError('conflict', 'The run is running. Wait for it.'); } });
  url = await server.listen();
});
after(() => server.close());

const post = (body: string, type = 'application/json') => fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': type }, body });
const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; fix?: string } }).error;

test('handlers answer JSON; a JsonResponse sets the status and headers', async () => {
  const res = await post('{"a": [1, {"b": null}]}');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { body: { a: [1, { b: null }] } });
  const made = await fetch(`${url}/runs/x`);
  assert.equal(made.status, 201);
  assert.equal(made.headers.get('x-made'), 'yes');
});

test('BatonErrors take their status from HTTP_STATUS and keep their code and message', async () => {
  const missing = await fetch(`${url}/runs/y`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await error(missing), { code: 'not_found', message: 'No run "y".' });
  const conflict = await fetch(`${url}/conflict`);
  assert.equal(conflict.status, 409);
  assert.equal((await error(conflict)).code, 'conflict');
});

test('unknown routes are 404 naming the routes; a wrong method is 405 with Allow', async () => {
  const nope = await fetch(`${url}/nope`);
  assert.equal(nope.status, 404);
  assert.match((await error(nope)).message, /No route GET \/nope on this test server\. It answers POST \/echo, GET \/runs\/:id/);
  const wrong = await fetch(`${url}/echo`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  assert.equal((await fetch(`${url}/runs/x`, { method: 'DELETE' })).headers.get('allow'), 'GET, HEAD');
});

test('bodies: too large 413, not JSON 415, bad JSON / too deep / too many keys 400 with the fix', async () => {
  const big = await post(`"${'x'.repeat(2_000)}"`);
  assert.equal(big.status, 413);
  assert.deepEqual(await error(big), { code: 'usage', message: 'The request body is over 1000 bytes. Send less per request (split it into several).', fix: 'Send less per request (split it into several).' });
  const text = await post('{"a": 1}', 'text/plain');
  assert.equal(text.status, 415);
  assert.match((await error(text)).message, /must be JSON; got Content-Type "text\/plain".*Content-Type: application\/json\. Send \{"a": 1\}/);
  assert.equal((await post('{"a": 1}', 'application/json; charset=latin1')).status, 415);
  assert.equal((await post('{"a": 1}', 'application/vnd.baton+json')).status, 200);
  const bad = await post('{"a": ');
  assert.equal(bad.status, 400);
  assert.match((await error(bad)).message, /not valid JSON .*Send \{"a": 1\}/);
  const deep = await post('[[[[[1]]]]]');
  assert.equal(deep.status, 400);
  assert.match((await error(deep)).message, /more than 4 levels deep \(at offset 4\)/);
  assert.equal((await post('[[["[[[[[[[["]]]')).status, 200, 'brackets inside strings do not count');
  const keys = await post('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}');
  assert.equal(keys.status, 400);
  assert.match((await error(keys)).message, /more than 5 object keys/);
});

test('a bug is a 500 that does not leak the stack, and is logged with it', async () => {
  const res = await fetch(`${url}/bug`);
  assert.equal(res.status, 500);
  const e = await error(res);
  assert.equal(e.code, 'internal');
  assert.doesNotMatch(e.message, /\n\s+at /);
  assert.match(logged.join('\n'), /test server: GET \/bug failed with a bug: TypeError: cannot read x of undefined\n\s+at /);
});

test('/health answers while the process runs; /ready is 503 with the error while the check fails', async () => {
  assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: 'ok' });
  assert.equal((await fetch(`${url}/ready`)).status, 200);
  ready = false;
  const down = await fetch(`${url}/ready`);
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), { status: 'not_ready', error: { code: 'store', message: 'The store is down. Start it.' } });
  ready = true;
});
