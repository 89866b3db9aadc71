import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { ApiExtension, ApiResponse } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { map, Observable } from 'rxjs';
import { RawHttpResponse } from '../errors/app-error';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';

const API_PREFIX = '/api/v1';

/**
 * Every `/api/v1` answer is `Cache-Control: no-store` (SPEC §1 "caching"): tokens, secrets and one-time reveals must
 * not sit in a browser or proxy cache. Set before the handler runs, so a route's own `@Header('Cache-Control', …)`
 * (the permission catalog) replaces it on success, and every error keeps it.
 */
export function noStoreMiddleware(req: HttpRequest, res: HttpResponse, next: HttpNext): void {
  const path = req.path;
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
        res.setHeader('ETag', tag);
        // Express's `fresh` check: GET/HEAD, a 2xx status, If-None-Match (weak comparison) and no `no-cache` request.
        if (req.fresh) throw new RawHttpResponse(304, '');
        return body;
      }),
    );
  }
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
