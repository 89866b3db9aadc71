import { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { AUDIT_SINK, AuditSink } from '../audit/audit.types';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../observability/metrics.service';
import { jsonBody, requireJsonBody } from './body-parsing';
import { noStoreMiddleware } from './caching';
import { clientGoneMiddleware } from './client-gone';
import { ErrorFilter } from './error.filter';
import { hostileUrlMiddleware } from './hostile-input.middleware';
import { httpLogger } from './http-logging';
import { lifecycleMiddleware } from './lifecycle.middleware';
import { buildOpenApiDocument, mountOpenApi } from './openapi';
import { requestIdMiddleware } from './request-id.middleware';
import { RouteIndex } from './route-index';
import { applyServerTimeouts } from './server-timeouts';
import { attachRouteIndex } from './route-template';
import { createValidationPipe } from './validation';

function trustProxySetting(value: string | undefined): boolean | number | string {
  if (!value) return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value; // e.g. "loopback, 10.0.0.0/8"
}

function optional<T>(app: INestApplication, token: symbol): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Everything Express-specific about the HTTP pipeline, in order: ids → access log → lifecycle/metrics → caching
 * headers → URL and JSON body rules (NUL, depth, reserved keys); then the global pipe and filter, OpenAPI. Used by
 * `main.ts` and by the e2e tests, so both run the same app.
 */
export async function configureHttpApp(
  nestApp: INestApplication,
  config: AppConfig,
  rootLogger: Logger,
  version: string,
): Promise<void> {
  const app = nestApp as NestExpressApplication;
  app.set('trust proxy', trustProxySetting(config.trustProxy));
  app.disable('x-powered-by');
  applyServerTimeouts(app.getHttpServer(), config.httpKeepAliveTimeoutMs);
  // No automatic weak ETag (a hash of every body, one-time reveals included): routes that want one use @WithETag().
  app.set('etag', false);
  const routes = new RouteIndex();
  attachRouteIndex(app.getHttpAdapter().getInstance(), routes);
  app.use(requestIdMiddleware);
  app.use(httpLogger(rootLogger));
  app.use(lifecycleMiddleware(app.get(LifecycleService), app.get(MetricsService)));
  app.use(clientGoneMiddleware);
  app.use(noStoreMiddleware);
  app.use(hostileUrlMiddleware(routes));
  app.use(requireJsonBody);
  app.use(jsonBody);

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter(app.get(HttpAdapterHost), routes, optional<AuditSink>(app, AUDIT_SINK)));
  if (config.exposeDocs) mountOpenApi(app, buildOpenApiDocument(app, version));
  await app.init();
  routes.load(app.getHttpAdapter().getInstance());
}
