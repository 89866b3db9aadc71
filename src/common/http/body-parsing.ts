import { json } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationFailedError } from '../errors/app-error';
import { inspectJsonBody, jsonNestingExceeds, MAX_FREE_FORM_JSON_DEPTH } from './hostile-input';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';

export const BODY_LIMIT = '1mb';
export const BODY_LIMIT_BYTES = 1024 * 1024;
const BODY_LIMIT_LABEL = '1 MiB';

export const bodyTooLargeError = () => new PayloadTooLargeError(BODY_LIMIT_LABEL);
const tooDeepError = () => new ValidationFailedError([{ field: 'body', issue: `is nested deeper than ${MAX_FREE_FORM_JSON_DEPTH} levels` }], 'The request body is nested too deeply.');
export const invalidJsonError = () => new ValidationFailedError([{ field: 'body', issue: 'is not valid JSON' }], 'The request body is not valid JSON.');
const unacceptableBody = (issues: ReturnType<typeof inspectJsonBody>) =>
  issues.length > 0 ? new ValidationFailedError(issues, 'The request body holds values this API does not accept.') : undefined;

export function hasBody(req: { headers: HttpRequest['headers'] }): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** A body-carrying request must be JSON: anything else is 415 before a parser runs. */
export function requireJsonBody(req: { headers: HttpRequest['headers'] }, _res: HttpResponse, next: HttpNext): void {
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
  // type-is's rule, so that the parser is skipped exactly when it would skip itself (a Content-Length of 0 still parses).
  if (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined) return next();
  parser(req, res, (err?: unknown) => {
    if (!err) return next(req.body === undefined ? undefined : unacceptableBody(inspectJsonBody(req.body)));
    const e = err as { type?: string; message?: string };
    if (e.type === TOO_DEEP) return next(tooDeepError());
    if (e.type === 'entity.too.large') return next(bodyTooLargeError());
    if (e.type === 'entity.parse.failed') return next(invalidJsonError());
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return next(new UnsupportedMediaTypeError(req.headers['content-type']));
    next(err);
  });
}

/** body-parser's `strict`: only an object or an array is a JSON body. */
const STRICT_START = /^[ \t\n\r]*[[{]/;

/**
 * The same rules as {@link jsonBody}, for an adapter that hands over the raw bytes (Fastify's content-type parser):
 * UTF-8 only (415 otherwise), nesting refused on the bytes, body-parser's strict JSON (an empty body is `{}`), then the
 * walk for NUL characters, reserved keys and depth. Throws the same errors; the size limit is the adapter's (413).
 */
export function parseJsonBody(buf: Buffer, contentType: string | undefined): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && charset.replace('-', '') !== 'utf8') throw new UnsupportedMediaTypeError(contentType);
  if (buf.length === 0) return {};
  if (jsonNestingExceeds(buf, MAX_FREE_FORM_JSON_DEPTH)) throw tooDeepError();
  const text = buf.toString('utf8');
  if (!STRICT_START.test(text)) throw invalidJsonError();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidJsonError();
  }
  const refused = unacceptableBody(inspectJsonBody(body));
  if (refused) throw refused;
  return body;
}
