import { HttpRequest, requestPath } from './http-types';
import { RouteIndex } from './route-index';

/** Where each adapter's request carries what `routeTemplate` needs (set by configure-http / configure-fastify). */
export const ROUTE_INDEX = Symbol('countersign.routeIndex');
/** The template Fastify matched, copied onto the raw request by an `onRequest` hook (configure-fastify). */
export const MATCHED_ROUTE = Symbol('countersign.matchedRoute');

/** Lets `routeTemplate` name routes for answers given before the router matched one (configured once per app). */
export function attachRouteIndex(locals: object, routes: RouteIndex): void {
  Reflect.set(locals, ROUTE_INDEX, routes);
}

/** Express's matched route (`req.route`), which its request type does not declare. */
function expressRoute(req: HttpRequest): string | undefined {
  const route: unknown = Reflect.get(req, 'route');
  if (typeof route !== 'object' || route === null) return undefined;
  const path: unknown = Reflect.get(route, 'path');
  return typeof path === 'string' ? path : undefined;
}

/** The route index of the app serving the request (Express: `app.locals`; Fastify: set on the raw request). */
function routeIndexOf(req: HttpRequest): RouteIndex | undefined {
  const own: unknown = Reflect.get(req, ROUTE_INDEX) ?? Reflect.get((req as { raw?: object }).raw ?? {}, ROUTE_INDEX);
  if (own instanceof RouteIndex) return own;
  const locals = (req.app?.locals as Record<string | symbol, unknown> | undefined)?.[ROUTE_INDEX];
  return locals instanceof RouteIndex ? locals : undefined;
}

/**
 * The route template (`/api/v1/requests/:id`) of the request, also when the answer came before routing (a body or
 * input check, 405); `<unmatched>` only for paths no route serves, so unknown paths cannot explode label sets.
 */
export function routeTemplate(req: HttpRequest): string {
  const express = expressRoute(req);
  // A wildcard is a Nest middleware mount (`forRoutes('*')` → `/{*path}`) that ran for the request, not its route.
  if (express && !express.includes('*')) return `${req.baseUrl ?? ''}${express}`;
  const matched: unknown = Reflect.get(req, MATCHED_ROUTE) ?? Reflect.get((req as { raw?: object }).raw ?? {}, MATCHED_ROUTE);
  if (typeof matched === 'string') return matched;
  return routeIndexOf(req)?.templateFor(req.method, requestPath(req)) ?? '<unmatched>';
}
