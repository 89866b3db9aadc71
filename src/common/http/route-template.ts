import { HttpRequest } from './http-types';

/** The matched route template (`/api/v1/requests/:id`), or a fixed label so unmatched paths cannot explode label sets. */
export function routeTemplate(req: HttpRequest): string {
  const route = (req as unknown as { route?: { path?: string } }).route;
  return route?.path ? `${req.baseUrl ?? ''}${route.path}` : '<unmatched>';
}
