import type { NextFunction, Request, Response } from 'express';

/**
 * Express types stay inside common/http so that another adapter can be offered without touching modules. On Fastify the
 * middleware sees Node's IncomingMessage (with `id`, `ip`, `query`, `originalUrl` set by @fastify/middie) and handlers,
 * guards and filters see Fastify's request: code here reads only what both have, through the helpers below.
 */
export type HttpRequest = Request & { id: string; correlationId: string };
export type HttpResponse = Response;
export type HttpNext = NextFunction;

/** The request path without the query string, on either adapter (Express's `req.path` exists only on Express). */
export function requestPath(req: { path?: unknown; originalUrl?: string; url?: string }): string {
  if (typeof req.path === 'string') return req.path;
  const url = req.originalUrl ?? req.url ?? '';
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}
