/**
 * The HTTP layer every Baton server stands on (the feature server now; the API server and the serving data plane
 * next), so they all refuse bad input the same way and never answer a client's mistake with a 5xx or a reset:
 *
 * - bodies: JSON only (415 otherwise), at most `bodyLimit` bytes (413), `maxDepth` levels and `maxKeys` keys
 *   (400, checked by an iterative scan before parsing), bad JSON 400. An oversized body is read to its end and
 *   dropped (up to `drainLimit` bytes) before the 413 goes out, so the client reads the answer instead of a reset.
 * - routes: 404 for an unknown path, 405 (with `Allow`) for a method the path does not take.
 * - slow clients: headers must arrive within `headersTimeoutMs`, the body within `bodyTimeoutMs` after them; past
 *   that the connection gets a 408 and is closed.
 * - errors: JSON `{ error: { code, message, fix? } }`, the status from HTTP_STATUS (errors.ts); 500 only for a bug,
 *   logged with its stack.
 * - `/health` (the process answers) and `/ready` (the `ready` check passes, else 503) on every server.
 *
 * Built on fastify (its router, keep-alive and reply handling); fastify is imported nowhere else, and nothing of it
 * appears in this module's types: routes are plain `(request) => body` functions.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { BatonError, messageOf } from '../errors.ts';
import { HttpError, renderError } from './errors.ts';
import { checkJsonLimits } from './json-limits.ts';

export interface HttpServerOptions {
  /** What the server is, for messages and logs, e.g. "feature server". @default "server" */
  name?: string;
  /** Largest request body in bytes; larger gets 413. @default 1 MiB */
  bodyLimit?: number;
  /** An oversized body is read and dropped up to this many bytes so the client sees the 413; past it the connection is closed. @default 64 MiB */
  drainLimit?: number;
  /** Objects and arrays open at once in a JSON body. @default 64 */
  maxDepth?: number;
  /** Object keys in a whole JSON body. @default 10_000 */
  maxKeys?: number;
  /** Time for a request's headers to arrive. @default 10_000 */
  headersTimeoutMs?: number;
  /** Time for a request's body to arrive once its headers are in. @default 30_000 */
  bodyTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. @default 5_000 */
  keepAliveTimeoutMs?: number;
  /** The `/ready` check: resolves when the server can do its work (e.g. its store answers). @default always ready */
  ready?: () => Promise<void> | void;
  /** Where bugs (500s) are logged. @default a line on stderr */
  log?: (message: string) => void;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: string;
  path: string;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** A handler's answer with a status other than 200, or with headers. */
export class JsonResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface Route {
  method: Method;
  /** `/features/online`, `/runs/:id`. */
  path: string;
  /** Returns the JSON body of a 200 (or a JsonResponse); throws a BatonError for a refused request. */
  handler: (request: HttpRequest) => unknown;
  /** A valid body, shown in the fix of a 400 for bad JSON or a 415. */
  example?: string;
}

export interface HttpServer {
  route(route: Route): void;
  /** Starts listening (port 0 = an ephemeral port); resolves to the base URL, e.g. http://127.0.0.1:8080. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const MiB = 1 << 20;

export function createHttpServer(options: HttpServerOptions = {}): HttpServer {
  const name = options.name ?? 'server';
  const bodyLimit = options.bodyLimit ?? MiB;
  const drainLimit = Math.max(bodyLimit, options.drainLimit ?? 64 * MiB);
  const limits = { maxDepth: options.maxDepth ?? 64, maxKeys: options.maxKeys ?? 10_000 };
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const bodyTimeout = options.bodyTimeoutMs ?? 30_000;
  const log = options.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const routes: Route[] = [];

  const app = Fastify({
    logger: false,
    bodyLimit: drainLimit,
    forceCloseConnections: true,
    // Node's own timers: headers within headersTimeout, the whole request within headers + body; checked often
    // enough that a small timeout (in tests) is honoured closely (Node checks every 30 s by default).
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: headersTimeout,
          requestTimeout: headersTimeout + bodyTimeout,
          keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
          connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.min(headersTimeout, bodyTimeout) / 4)),
        },
        handler,
      ),
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => answerClientError(err, socket),
    frameworkErrors: (err, _request, reply) => {
      void (reply as unknown as FastifyReply).code(400).send(renderError(new HttpError(400, 'usage', `The request URL is malformed (${err.message}).`, 'Percent-encode special characters in the path and query.')).body);
    },
  });

  app.removeAllContentTypeParsers();
  // One reader for every body, whatever its type: the type, size, depth and key checks happen here, in one place.
  app.addContentTypeParser('*', (request: FastifyRequest, payload: Readable, done: (err: Error | null, body?: unknown) => void) => {
    readBody(request.raw, payload, bodyLimit, drainLimit, (err, text) => {
      if (err || text === undefined) return done(err ?? null);
      if (text === '') return done(null, undefined);
      const example = (request.routeOptions.config as { example?: string } | undefined)?.example;
      const send = example ? ` Send ${example}.` : '';
      if (!isJson(request.headers['content-type'])) {
        return done(new HttpError(415, 'usage', `The request body must be JSON; got Content-Type ${JSON.stringify(request.headers['content-type'] ?? '(none)')}.`, `Send it with the header Content-Type: application/json.${send}`));
      }
      try {
        checkJsonLimits(text, limits);
        done(null, JSON.parse(text));
      } catch (e) {
        done(e instanceof HttpError ? e : new HttpError(400, 'data_invalid', `The request body is not valid JSON (${messageOf(e)}).`, send.trim() || undefined));
      }
    });
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    let e: unknown = err;
    // fastify's own refusals (an unparseable Content-Type, a Content-Length that does not match the body, …).
    if (!(err instanceof BatonError) && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      e = new HttpError(err.statusCode, 'usage', `The request was refused: ${err.message}.`);
    }
    const { status, body, bug } = renderError(e);
    if (bug) log(`${name}: ${request.method} ${request.url} failed with a bug: ${err.stack ?? messageOf(err)}`);
    if (e instanceof HttpError) void reply.headers(e.headers);
    void (reply as FastifyReply).code(status).send(body);
  });

  app.setNotFoundHandler((request) => {
    const path = pathOf(request.url);
    const allowed = routes.filter((r) => matches(r.path, path)).map((r) => r.method);
    if (allowed.length > 0) {
      const allow = [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])])].join(', ');
      throw new HttpError(405, 'usage', `${request.method} ${path} is not supported.`, `Use ${allow}.`, { allow });
    }
    const own = routes.filter((r) => r.path !== '/health' && r.path !== '/ready').map((r) => `${r.method} ${r.path}`);
    const known = own.length > 10 ? `${own.slice(0, 10).join(', ')}, …` : own.join(', ') || 'GET /health, GET /ready';
    throw new HttpError(404, 'not_found', `No route ${request.method} ${path} on this ${name}.`, `It answers ${known}.`);
  });

  const server: HttpServer = {
    route(route) {
      routes.push(route);
      app.route({
        method: route.method,
        url: route.path,
        config: { example: route.example },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const out = await route.handler({
            method: request.method,
            path: pathOf(request.url),
            body: request.body,
            params: request.params as Record<string, string>,
            query: request.query as Record<string, unknown>,
            headers: request.headers,
          });
          if (out instanceof JsonResponse) return reply.code(out.status).headers(out.headers).send(out.body);
          return reply.code(200).send(out);
        },
      });
    },
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      await app.listen({ port, host });
      const address = app.server.address() as AddressInfo;
      return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    },
    close: () => app.close(),
  };
  server.route({ method: 'GET', path: '/health', handler: () => ({ status: 'ok' }) });
  server.route({
    method: 'GET',
    path: '/ready',
    handler: async () => {
      try {
        await options.ready?.();
        return { status: 'ready' };
      } catch (err) {
        return new JsonResponse(503, { status: 'not_ready', ...renderError(err instanceof BatonError ? err : new BatonError('store', messageOf(err))).body });
      }
    },
  });
  return server;
}

/**
 * Reads a body up to `limit` bytes. Past it, keeps reading and dropping up to `drain` bytes and then answers 413:
 * answering while the client still sends would close the connection under it (a reset, and the 413 lost).
 */
function readBody(raw: IncomingMessage, payload: Readable, limit: number, drain: number, done: (err: Error | null, text?: string) => void): void {
  const tooLarge = () => new HttpError(413, 'usage', `The request body is over ${limit} bytes.`, 'Send less per request (split it into several).', { connection: 'close' });
  const declared = Number(raw.headers['content-length']);
  if (declared > drain) return done(tooLarge());
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, text?: string) => {
    if (finished) return;
    finished = true;
    done(err, text);
  };
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else {
      chunks.length = 0;
      if (size > drain) finish(tooLarge());
    }
  });
  payload.on('end', () => (size > limit ? finish(tooLarge()) : finish(null, Buffer.concat(chunks).toString('utf8'))));
  payload.on('error', (err) => finish(new HttpError(400, 'usage', `The request body could not be read (${messageOf(err)}).`)));
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.toLowerCase().split(';').map((s) => s.trim());
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type ?? '')) return false;
  const charset = params.find((p) => p.startsWith('charset='));
  return charset === undefined || /^charset="?utf-8"?$/.test(charset);
}

/**
 * A request Node could not even parse (bad request line or headers, headers too large) or that timed out: answer
 * in the same JSON shape, then close. The socket ends gracefully (so the client reads the answer) and is destroyed
 * shortly after if the client keeps it open.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request did not arrive in time: its headers or body were too slow.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
        : [400, 'Bad Request', `The request is not valid HTTP (${err.code ?? err.message}).`];
  const body = JSON.stringify({ error: { code: 'usage', message } });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Whether a route path (`/runs/:id`) matches a request path. */
function matches(pattern: string, path: string): boolean {
  const a = pattern.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((part, i) => part.startsWith(':') ? b[i] !== '' : part === b[i]);
}
