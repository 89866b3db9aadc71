import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from 'pino';
import { HttpNext, HttpRequest, requestPath } from './http-types';
import { routeTemplate } from './route-template';

const QUIET_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics']);

/**
 * Exactly one JSON line per request (probes excepted), written when the response finishes or the connection closes:
 * request and correlation ids, method, route template, status, duration; 5xx at `error` with the error the filter
 * attached, 4xx at `warn`. One object and one write per request, no child logger.
 */
export function accessLogMiddleware(logger: Logger) {
  return (req: HttpRequest, res: ServerResponse & { err?: unknown }, next: HttpNext): void => {
    const started = performance.now();
    if (QUIET_PATHS.has(requestPath(req))) return next();
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const status = res.statusCode;
      const route = routeTemplate(req);
      const line: Record<string, unknown> = {
        request_id: req.id,
        correlation_id: req.correlationId,
        method: req.method,
        route,
        status,
        req: { method: req.method, path: requestPath(req), user_agent: req.headers['user-agent'], remote_address: (req as IncomingMessage).socket?.remoteAddress },
        res: { status },
        duration_ms: Math.round(performance.now() - started),
      };
      const msg = `${req.method} ${route} ${status}`;
      if (res.err !== undefined || status >= 500) logger.error({ ...line, err: res.err ?? new Error(`failed with status code ${status}`) }, msg);
      else if (status >= 400) logger.warn(line, msg);
      else logger.info(line, msg);
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
