/**
 * The online feature server: `POST /features/online` with JSON `{ features, entities, fullFeatureNames? }` →
 * JSON `{ rows, statuses, views }` (getOnlineFeatures over HTTP), plus `GET /health` and `GET /ready` (ready when
 * the online store answers).
 *
 * Limits, timeouts and error rendering are the shared HTTP layer's (src/http): errors answer
 * `{ error: { code, message, fix? } }` with the status of the error code — 400 for bad JSON or a bad request
 * (`data_invalid`), 404 for unknown or not-materialized views and other paths, 405 for other methods, 413 for bodies
 * over 1 MiB, 415 for a body that is not JSON, 503 when the online store fails (unreachable).
 */
import { BatonError } from '../../errors.ts';
import { createHttpServer, type HttpServerOptions } from '../../http/index.ts';
import type { OnlineStore } from '../../ports/online.ts';
import type { FeatureView } from '../definitions.ts';
import { getOnlineFeatures } from './serve.ts';
import { ONLINE_PATH } from './path.ts';

export { ONLINE_PATH };

const EXAMPLE = '{"features": ["view:feature"], "entities": [{"key": "value"}]}';

export interface FeatureServerOptions {
  online: OnlineStore;
  views: FeatureView[];
  /** Limits and timeouts of the HTTP layer. @default its defaults (1 MiB bodies, 10 s headers, 30 s body) */
  http?: HttpServerOptions;
}

function parse(body: unknown): { features: string[]; entities: Record<string, unknown>[]; fullFeatureNames?: boolean } {
  const bad = (message: string) => new BatonError('data_invalid', `${message} Send ${EXAMPLE}.`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The request body must be a JSON object: {"features": [...], "entities": [...]}.');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.features) || !b.features.every((f) => typeof f === 'string')) throw bad('"features" must be an array of "view:feature" strings.');
  if (!Array.isArray(b.entities)) throw bad('"entities" must be an array of objects holding join keys, e.g. [{"origin": "SEA"}].');
  if (b.fullFeatureNames !== undefined && typeof b.fullFeatureNames !== 'boolean') throw bad('"fullFeatureNames" must be true or false.');
  return { features: b.features as string[], entities: b.entities as Record<string, unknown>[], fullFeatureNames: b.fullFeatureNames as boolean | undefined };
}

/** Starts a feature server (port 0 = an ephemeral port). `close` stops it; it does not close the online store. */
export async function startFeatureServer(options: FeatureServerOptions & { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const { online, views } = options;
  const server = createHttpServer({
    name: 'feature server',
    ...options.http,
    // Ready when the online store answers a read (a watermark: one key, cheap on SQLite and Redis).
    ready: async () => void (await online.watermark(views[0]?.name ?? '_ready')),
  });
  server.route({
    method: 'POST',
    path: ONLINE_PATH,
    example: EXAMPLE,
    handler: async ({ body }) => {
      const request = parse(body);
      return getOnlineFeatures(online, { features: request.features, entityRows: request.entities, views, fullFeatureNames: request.fullFeatureNames ?? false });
    },
  });
  const url = await server.listen({ port: options.port, host: options.host });
  return { url, close: () => server.close() };
}
