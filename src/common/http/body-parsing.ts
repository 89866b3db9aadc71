import { json } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationFailedError } from '../errors/app-error';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';

export const BODY_LIMIT = '1mb';
const BODY_LIMIT_LABEL = '1 MiB';

function hasBody(req: HttpRequest): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** A body-carrying request must be JSON: anything else is 415 before a parser runs. */
export function requireJsonBody(req: HttpRequest, _res: HttpResponse, next: HttpNext): void {
  if (!hasBody(req)) return next();
  const type = req.headers['content-type'];
  const mediaType = type?.split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType?.endsWith('+json')) return next();
  next(new UnsupportedMediaTypeError(mediaType));
}

const parser = json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });

/** express.json with its failures turned into our errors (413, 400). */
export function jsonBody(req: HttpRequest, res: HttpResponse, next: HttpNext): void {
  parser(req, res, (err?: unknown) => {
    if (!err) return next();
    const e = err as { type?: string; message?: string };
    if (e.type === 'entity.too.large') return next(new PayloadTooLargeError(BODY_LIMIT_LABEL));
    if (e.type === 'entity.parse.failed') return next(new ValidationFailedError([{ field: 'body', issue: 'is not valid JSON' }], 'The request body is not valid JSON.'));
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return next(new UnsupportedMediaTypeError(req.headers['content-type']));
    next(err);
  });
}
