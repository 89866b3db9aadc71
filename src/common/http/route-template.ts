import type { Application } from 'express';
import { HttpRequest } from './http-types';
import { RouteIndex } from './route-index';

const ROUTE_INDEX = 'countersign.routeIndex';

/** Lets `routeTemplate` name routes for answers given before Express matched one (configure-http calls it once). */
export function attachRouteIndex(app: Application, routes: RouteIndex): void {
  app.locals[ROUTE_INDEX] = routes;
}

/**
 * The route template (`/api/v1/requests/:id`) of the request, also when the answer came before routing (a body or
 * input check, 405); `<unmatched>` only for paths no route serves, so unknown paths cannot explode label sets.
 */
/** Express's matched route (`req.route`), which its request type does not declare. */
function routeOf(req: HttpRequest): { path?: string } | undefined {
  const route: unknown = Reflect.get(req, 'route');
  if (typeof route !== 'object' || route === null) return undefined;
  const path: unknown = Reflect.get(route, 'path');
  return { path: typeof path === 'string' ? path : undefined };
}

export function routeTemplate(req: HttpRequest): string {
  const route = routeOf(req);
  // A wildcard is a Nest middleware mount (`forRoutes('*')` → `/{*path}`) that ran for the request, not its route.
  if (route?.path && !route.path.includes('*')) return `${req.baseUrl ?? ''}${route.path}`;
  const routes = (req.app?.locals as Record<string, unknown> | undefined)?.[ROUTE_INDEX] as RouteIndex | undefined;
  return routes?.templateFor(req.method, pathOf(req)) ?? '<unmatched>';
}

/** `req.path` needs Express's request prototype; pino-http may call this with the bare IncomingMessage. */
function pathOf(req: HttpRequest): string {
  return (req.originalUrl ?? req.url ?? '').split('?')[0];
}
