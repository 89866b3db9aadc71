import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from 'pino';
import pinoHttp from 'pino-http';
import { HttpRequest } from './http-types';
import { routeTemplate } from './route-template';

const QUIET_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics']);

/** One JSON line per request: request and correlation ids, method, route template, status, duration. */
export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => (req as HttpRequest).id,
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    // Called when the request starts (bindings of its child logger) and again when it ends.
    customProps: (req: IncomingMessage, res: ServerResponse) =>
      res.headersSent
        ? { route: routeTemplate(req as HttpRequest), status: res.statusCode }
        : { correlation_id: (req as HttpRequest).correlationId, method: req.method },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${routeTemplate(req as HttpRequest)} ${res.statusCode}`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${routeTemplate(req as HttpRequest)} ${res.statusCode}`,
    serializers: {
      req: (req: { method?: string; url?: string; headers?: Record<string, unknown>; remoteAddress?: string }) => ({
        method: req.method,
        path: (req.url ?? '').split('?')[0],
        user_agent: req.headers?.['user-agent'],
        remote_address: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
    },
  });
}
