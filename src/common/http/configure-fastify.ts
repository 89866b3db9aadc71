import { INestApplication } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { acceptedId } from '../context/request-context';
import { UnsupportedMediaTypeError, ValidationFailedError } from '../errors/app-error';
import { inspectPath } from './hostile-input';
import { requestPath } from './http-types';
import { hasBody, parseJsonBody } from './body-parsing';
import { RouteEntry, RouteIndex, templateMatcher } from './route-index';
import { MATCHED_ROUTE, ROUTE_INDEX } from './route-template';

/** Media types parsed as JSON (the same as Express's `application/json` and `application/*+json`). */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json(?:\s*;|\s*$)/i;

/**
 * What Fastify needs beyond the shared middleware (configure-http runs the same middleware through @fastify/middie):
 * the route list for 405/`Allow` and route templates (collected as routes are added), the matched template and route
 * index on the Node request for the access log and metrics, the correlation id on Fastify's request, and JSON body
 * parsing with the Express path's rules (1 MiB, UTF-8, strict, depth, NUL, reserved keys; same errors). Returns what
 * to call once the app is initialised.
 */
export function configureFastify(app: INestApplication, routes: RouteIndex): { ready(): Promise<void> } {
  const instance = app.getHttpAdapter().getInstance() as FastifyInstance;
  const entries: RouteEntry[] = [];
  Reflect.set(instance, ROUTE_INDEX, routes);
  instance.addHook('onRoute', (route: RouteOptions) => {
    // Wildcards are static files (/docs assets), not operations.
    if (route.url.includes('*')) return;
    entries.push({ path: route.url, methods: new Set([route.method].flat().map((m) => String(m).toUpperCase())), match: templateMatcher(route.url) });
  });
  instance.decorateRequest('correlationId', '');
  instance.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    Reflect.set(req.raw, ROUTE_INDEX, routes);
    const template = req.routeOptions.url;
    if (template && !template.includes('*')) Reflect.set(req.raw, MATCHED_ROUTE, template);
    done();
  });
  instance.addHook('preValidation', (req: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const correlationId: unknown = Reflect.get(req.raw, 'correlationId');
    if (typeof correlationId === 'string') Reflect.set(req, 'correlationId', correlationId);
    done();
  });

  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body, req.headers['content-type']));
    } catch (error) {
      done(error as Error);
    }
  });
  // Any other media type: a body was already refused (415) by the shared middleware; without one there is nothing to parse.
  instance.addContentTypeParser('*', (req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => {
    if (hasBody(req.raw)) done(new UnsupportedMediaTypeError(req.headers['content-type']));
    else done(null, undefined);
  });

  return {
    async ready() {
      await instance.ready();
      routes.load(entries);
    },
  };
}

/**
 * Fastify refuses a URL it cannot percent-decode before any hook or middleware runs (`FST_ERR_BAD_URL`). This answers it
 * as the Express path's URL check does: 400 VALIDATION_FAILED naming the parameter, with the headers the shared
 * middleware would have set. (No access-log line or metric: those middleware never ran.)
 */
export function fastifyFrameworkError(error: Error, req: FastifyRequest, reply: FastifyReply): void {
  const path = requestPath(req.raw);
  const routes: unknown = Reflect.get(req.server, ROUTE_INDEX);
  const issues = inspectPath(path, routes instanceof RouteIndex ? routes.templates() : []);
  const refused = new ValidationFailedError(
    issues.length ? issues : [{ field: 'path', issue: 'is not valid percent-encoded UTF-8' }],
    'The request URL holds characters this API does not accept.',
  );
  const api = path === '/api/v1' || path.startsWith('/api/v1/');
  void reply
    .code(refused.status)
    .header('X-Request-ID', req.id)
    .header('X-Correlation-Id', acceptedId(req.headers['x-correlation-id']) ?? req.id)
    .headers(api ? { 'X-API-Version': '1', 'Cache-Control': 'no-store' } : {})
    .header('Content-Type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ error: { code: refused.code, message: refused.message, details: refused.details, request_id: req.id } }));
}
