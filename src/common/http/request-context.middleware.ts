import { ClsService } from 'nestjs-cls';
import { RequestContextStore } from '../context/request-context';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';

/**
 * The last shared middleware: opens the request's context (nestjs-cls), which logs, audit events, jobs and the unit of
 * work read, and runs the rest of the request in it. Synchronous, instead of nestjs-cls's own middleware (an async
 * set-up with four awaits, a router layer of its own, the request object kept in the store): see docs/performance.md.
 * On Express it runs after the JSON body is read, so that the handler runs inside the context it opened.
 */
export function requestContextMiddleware(cls: ClsService<RequestContextStore>) {
  return (req: HttpRequest, _res: HttpResponse, next: HttpNext): void => {
    cls.run(() => {
      const store = cls.get();
      store.requestId = req.id;
      store.correlationId = req.correlationId;
      store.userAgent = req.headers['user-agent'];
      // The client address (TRUST_PROXY, X-Forwarded-For) is worked out only when an audit event or a session needs it.
      Object.defineProperty(store, 'ip', { enumerable: true, get: () => req.ip });
      next();
    });
  };
}
