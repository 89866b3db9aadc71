import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { ApiExtension, ApiResponse } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { map, Observable } from 'rxjs';
import { RawHttpResponse } from '../errors/app-error';
import { HttpNext, HttpRequest, HttpResponse, requestPath } from './http-types';

const API_PREFIX = '/api/v1';

/**
 * Every `/api/v1` answer is `Cache-Control: no-store` (SPEC §1 "caching"): tokens, secrets and one-time reveals must
 * not sit in a browser or proxy cache. Set before the handler runs, so a route's own `@Header('Cache-Control', …)`
 * (the permission catalog) replaces it on success, and every error keeps it.
 */
export function noStoreMiddleware(req: HttpRequest, res: HttpResponse, next: HttpNext): void {
  const path = requestPath(req);
  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A strong validator of the JSON representation: the first 160 bits of its SHA-256. */
export function entityTag(body: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(body) ?? '').digest('base64url').slice(0, 27)}"`;
}

/**
 * Gives a route's answer an `ETag` and answers a matching `If-None-Match` with 304 and no body. Express's automatic
 * ETag is off (configure-http), so only routes that ask — with {@link WithETag} — carry one.
 */
@Injectable()
export class ETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    return next.handle().pipe(
      map((body: unknown) => {
        const tag = entityTag(body);
        setResponseHeader(res, 'ETag', tag);
        if (isFresh(req, tag)) throw new RawHttpResponse(304, '');
        return body;
      }),
    );
  }
}

/** Express's `res.setHeader`, Fastify's `reply.header`. */
function setResponseHeader(res: unknown, name: string, value: string): void {
  const r = res as { setHeader?: (n: string, v: string) => void; header: (n: string, v: string) => void };
  if (typeof r.setHeader === 'function') r.setHeader(name, value);
  else r.header(name, value);
}

/**
 * Express's `req.fresh` rule, on either adapter: a GET/HEAD without `Cache-Control: no-cache` whose `If-None-Match` names
 * this tag (weak comparison) or is `*`. Only 2xx answers get here (errors never reach `map`).
 */
function isFresh(req: { method: string; headers: Record<string, string | string[] | undefined> }, tag: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const ifNoneMatch = req.headers['if-none-match'];
  if (typeof ifNoneMatch !== 'string' || !ifNoneMatch) return false;
  const cacheControl = req.headers['cache-control'];
  if (typeof cacheControl === 'string' && /(?:^|,)\s*no-cache\s*(?:,|$)/.test(cacheControl)) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => opaque(t) === tag);
}

/** The route computes an ETag of its answer and honours If-None-Match (304). */
export function WithETag(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(ETagInterceptor),
    ApiResponse({ status: 304, description: 'Not modified: the `If-None-Match` header names the current `ETag`.' }),
    // openapi.ts declares the ETag header on the 2xx and 304 answers (and removes this marker).
    ApiExtension(ETAG_EXTENSION, true),
  );
}

export const ETAG_EXTENSION = 'x-countersign-etag';
