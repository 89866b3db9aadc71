import { randomUUID } from 'node:crypto';
import { acceptedId } from '../context/request-context';
import { HttpNext, HttpRequest, HttpResponse, requestPath } from './http-types';

/** First middleware: fixes the request and correlation ids and the headers every response carries. */
export function requestIdMiddleware(req: HttpRequest, res: HttpResponse, next: HttpNext): void {
  // On Fastify the id is already made (its genReqId applies the same rule; @fastify/middie copies it here).
  const requestId = (req.id as string | undefined) ?? acceptedId(req.headers['x-request-id']) ?? randomUUID();
  const correlationId = acceptedId(req.headers['x-correlation-id']) ?? requestId;
  req.id = requestId;
  req.correlationId = correlationId;
  res.setHeader('X-Request-ID', requestId);
  res.setHeader('X-Correlation-Id', correlationId);
  if (requestPath(req).startsWith('/api/v1')) res.setHeader('X-API-Version', '1');
  next();
}
