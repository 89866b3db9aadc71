import { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClsService } from 'nestjs-cls';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { AUDIT_SINK, AuditSink } from '../audit/audit.types';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../observability/metrics.service';
import { jsonBody, requireJsonBody } from './body-parsing';
import { noStoreMiddleware } from './caching';
import { clientGoneMiddleware } from './client-gone';
import { composeMiddleware } from './compose-middleware';
import { configureFastify } from './configure-fastify';
import { ErrorFilter } from './error.filter';
import { hostileUrlMiddleware } from './hostile-input.middleware';
import { trustProxySetting } from './http-adapter';
import { accessLogMiddleware } from './http-logging';
import { lifecycleMiddleware } from './lifecycle.middleware';
import { buildOpenApiDocument, mountOpenApi } from './openapi';
import { requestContextMiddleware } from './request-context.middleware';
import { requestIdMiddleware } from './request-id.middleware';
import { expressRouteEntries, RouteIndex } from './route-index';
import { scopeGlobalInterceptors } from './route-scoped-interceptors';
import { applyServerTimeouts } from './server-timeouts';
import { attachRouteIndex } from './route-template';
import { createValidationPipe } from './validation';

function optional<T>(app: INestApplication, token: symbol): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * The middleware both adapters run, in order: ids → access log → lifecycle/metrics → client-gone → caching headers →
 * URL rules (NUL, broken percent-encoding) → 415 for a body that is not JSON. JSON parsing comes after, per adapter,
 * and the request context (nestjs-cls) last. Each adapter mounts them as one middleware (compose-middleware.ts).
 */
function sharedMiddleware(app: INestApplication, rootLogger: Logger, routes: RouteIndex) {
  return [
    requestIdMiddleware,
    accessLogMiddleware(rootLogger),
    lifecycleMiddleware(app.get(LifecycleService), app.get(MetricsService)),
    clientGoneMiddleware,
    noStoreMiddleware,
    hostileUrlMiddleware(routes),
    requireJsonBody,
  ];
}

/**
 * Everything HTTP about the app, in order: the shared middleware, the adapter's JSON body parsing (same limits and
 * refusals), then the global pipe and filter, the interceptors scoped to the routes that use them, OpenAPI. Used by
 * `main.ts` and by the e2e tests, so both run the same app, on Express (default) or Fastify (`HTTP_ADAPTER`).
 */
export async function configureHttpApp(app: INestApplication, config: AppConfig, rootLogger: Logger, version: string): Promise<void> {
  applyServerTimeouts(app.getHttpServer(), config.httpKeepAliveTimeoutMs);
  const routes = new RouteIndex();
  const fastify = app.getHttpAdapter().getType() === 'fastify' ? configureFastify(app, routes) : undefined;
  if (fastify) {
    app.use(composeMiddleware([...sharedMiddleware(app, rootLogger, routes), requestContextMiddleware(app.get(ClsService))]));
  } else {
    const express = app as NestExpressApplication;
    express.set('trust proxy', trustProxySetting(config.trustProxy));
    express.disable('x-powered-by');
    // No automatic weak ETag (a hash of every body, one-time reveals included): routes that want one use @WithETag().
    express.set('etag', false);
    attachRouteIndex(express.getHttpAdapter().getInstance().locals, routes);
    app.use(composeMiddleware([...sharedMiddleware(app, rootLogger, routes), jsonBody, requestContextMiddleware(app.get(ClsService))]));
  }

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter(app.get(HttpAdapterHost), routes, optional<AuditSink>(app, AUDIT_SINK)));
  scopeGlobalInterceptors(app);
  if (config.exposeDocs) mountOpenApi(app, buildOpenApiDocument(app, version));
  await app.init();
  if (fastify) await fastify.ready();
  else routes.load(expressRouteEntries(app.getHttpAdapter().getInstance()));
}
