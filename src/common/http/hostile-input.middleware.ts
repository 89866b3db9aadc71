import { ValidationFailedError } from '../errors/app-error';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';
import { inspectPath, inspectQuery } from './hostile-input';
import { RouteIndex } from './route-index';

/**
 * Refuses, before routing and on every route, a path parameter or query value holding a NUL character or broken
 * percent-encoding: 400 naming the parameter, whether or not the route validates it with a DTO (SPEC §1 "strings").
 */
export function hostileUrlMiddleware(routes: RouteIndex) {
  return (req: HttpRequest, _res: HttpResponse, next: HttpNext): void => {
    const url = req.originalUrl ?? req.url;
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const issues = inspectPath(path, routes.templates());
    // A NUL can only arrive percent-encoded (Node refuses raw control characters in the request line).
    if (queryAt !== -1 && url.includes('%00', queryAt)) issues.push(...inspectQuery(req.query));
    if (issues.length > 0) return next(new ValidationFailedError(issues, 'The request URL holds characters this API does not accept.'));
    next();
  };
}
