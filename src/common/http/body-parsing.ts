import { json } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationFailedError } from '../errors/app-error';
import { inspectJsonBody, jsonNestingExceeds, MAX_FREE_FORM_JSON_DEPTH } from './hostile-input';
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

const TOO_DEEP = 'entity.too.deep';

/**
 * Before `JSON.parse`: text nested deeper than anything the API accepts is refused on a scan of the bytes (UTF-8,
 * the only charset a client sends in practice; other UTF charsets are still caught by the walk after parsing).
 */
function refuseDeepText(_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void {
  if ((encoding ?? 'utf-8').toLowerCase().replace('-', '') !== 'utf8') return;
  if (jsonNestingExceeds(buf, MAX_FREE_FORM_JSON_DEPTH)) throw Object.assign(new Error('JSON nested too deep'), { type: TOO_DEEP });
}

const parser = json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'], verify: refuseDeepText });

/**
 * express.json with its failures turned into our errors (413, 400), and the parsed body checked (iteratively) for NUL
 * characters, reserved keys and depth before anything recursive — class-transformer, class-validator — sees it.
 */
export function jsonBody(req: HttpRequest, res: HttpResponse, next: HttpNext): void {
  parser(req, res, (err?: unknown) => {
    if (!err) {
      const issues = req.body === undefined ? [] : inspectJsonBody(req.body);
      return next(issues.length > 0 ? new ValidationFailedError(issues, 'The request body holds values this API does not accept.') : undefined);
    }
    const e = err as { type?: string; message?: string };
    if (e.type === TOO_DEEP) {
      return next(new ValidationFailedError([{ field: 'body', issue: `is nested deeper than ${MAX_FREE_FORM_JSON_DEPTH} levels` }], 'The request body is nested too deeply.'));
    }
    if (e.type === 'entity.too.large') return next(new PayloadTooLargeError(BODY_LIMIT_LABEL));
    if (e.type === 'entity.parse.failed') return next(new ValidationFailedError([{ field: 'body', issue: 'is not valid JSON' }], 'The request body is not valid JSON.'));
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return next(new UnsupportedMediaTypeError(req.headers['content-type']));
    next(err);
  });
}
