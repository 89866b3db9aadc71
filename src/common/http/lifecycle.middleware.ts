import { ShuttingDownError } from '../errors/app-error';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../observability/metrics.service';
import { HttpNext, HttpRequest, HttpResponse, requestPath } from './http-types';
import { routeTemplate } from './route-template';

const PROBES = new Set(['/healthz', '/livez', '/readyz', '/metrics']);

/** Counts in-flight requests for the drain, refuses new work once shutdown began, and times every request. */
export function lifecycleMiddleware(lifecycle: LifecycleService, metrics: MetricsService) {
  return (req: HttpRequest, res: HttpResponse, next: HttpNext): void => {
    const probe = PROBES.has(requestPath(req));
    if (!probe && lifecycle.shuttingDown) return next(new ShuttingDownError());
    const started = process.hrtime.bigint();
    if (!probe) lifecycle.requestStarted();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (!probe) lifecycle.requestFinished();
      metrics.observeHttp(req.method, routeTemplate(req), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  };
}
