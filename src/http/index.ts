/** The shared HTTP layer of every Baton server: limits, timeouts, JSON errors, /health and /ready. */
export { HttpError, renderError, type ErrorBody } from './errors.ts';
export { checkJsonLimits, type JsonLimits } from './json-limits.ts';
export { createHttpServer, JsonResponse, type HttpRequest, type HttpServer, type HttpServerOptions, type Method, type Route } from './server.ts';
