/**
 * The online feature server: `POST /features/online` with JSON `{ features, entities, fullFeatureNames? }` →
 * JSON `{ rows, statuses, views }` (getOnlineFeatures over HTTP).
 *
 * Plain `node:http`, no framework: there is one route with a JSON body, so a framework would add a dependency and
 * per-request routing/middleware cost for nothing; node:http already does keep-alive, and the handler stays a plain
 * `(req, res)` function that can be mounted in any server.
 *
 * Errors answer `{ error: { code, message } }`: 400 for bad JSON or a bad request (`data_invalid`), 404 for unknown
 * or not-materialized views and other paths, 405 for other methods, 413 for bodies over 1 MiB, 503 when the online
 * store fails (unreachable), 500 otherwise.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError, messageOf } from '../../errors.ts';
import type { OnlineStore } from '../../ports/online.ts';
import type { FeatureView } from '../definitions.ts';
import { getOnlineFeatures } from './serve.ts';
import { ONLINE_PATH } from './path.ts';

export { ONLINE_PATH };

const MAX_BODY = 1 << 20;

export interface FeatureServerOptions {
  online: OnlineStore;
  views: FeatureView[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'data_invalid', `Request body is over ${MAX_BODY} bytes. Ask for fewer entities per request.`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parse(text: string): { features: string[]; entities: Record<string, unknown>[]; fullFeatureNames?: boolean } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'data_invalid', `The request body is not valid JSON (${messageOf(err)}). Send {"features": ["view:feature"], "entities": [{"key": "value"}]}.`);
  }
  const b = body as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new HttpError(400, 'data_invalid', 'The request body must be a JSON object: {"features": [...], "entities": [...]}.');
  if (!Array.isArray(b.features) || !b.features.every((f) => typeof f === 'string')) throw new HttpError(400, 'data_invalid', '"features" must be an array of "view:feature" strings.');
  if (!Array.isArray(b.entities)) throw new HttpError(400, 'data_invalid', '"entities" must be an array of objects holding join keys, e.g. [{"origin": "SEA"}].');
  if (b.fullFeatureNames !== undefined && typeof b.fullFeatureNames !== 'boolean') throw new HttpError(400, 'data_invalid', '"fullFeatureNames" must be true or false.');
  return { features: b.features as string[], entities: b.entities as Record<string, unknown>[], fullFeatureNames: b.fullFeatureNames as boolean | undefined };
}

/** 503 for `store`: the online store is unreachable (e.g. Redis down) — the request may succeed once it is back. */
const STATUS: Partial<Record<string, number>> = { data_invalid: 400, not_found: 404, store: 503 };

/** The request handler, mountable in any node:http server. */
export function onlineFeatureHandler({ online, views }: FeatureServerOptions): RequestListener {
  return (req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '/').split('?')[0];
        if (path !== ONLINE_PATH) throw new HttpError(404, 'not_found', `No route ${path}. The feature server answers POST ${ONLINE_PATH}.`);
        if (req.method !== 'POST') throw new HttpError(405, 'usage', `${req.method} ${ONLINE_PATH} is not supported; use POST with a JSON body.`);
        const body = parse(await readBody(req));
        const result = await getOnlineFeatures(online, { features: body.features, entityRows: body.entities, views, fullFeatureNames: body.fullFeatureNames ?? false });
        send(res, 200, result);
      } catch (err) {
        if (res.headersSent) return;
        if (err instanceof HttpError) send(res, err.status, { error: { code: err.code, message: err.message } });
        else if (err instanceof BatonError) send(res, STATUS[err.code] ?? 500, { error: { code: err.code, message: err.message } });
        else send(res, 500, { error: { code: 'internal', message: messageOf(err) } });
      }
    })();
  };
}

/** Starts a feature server (port 0 = an ephemeral port). `close` stops it; it does not close the online store. */
export async function startFeatureServer(options: FeatureServerOptions & { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer({ keepAlive: true }, onlineFeatureHandler(options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
