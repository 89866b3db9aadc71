import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ThrottlerException } from '@nestjs/throttler';
import { AuditSink } from '../audit/audit.types';
import { AppError, InternalError, MethodNotAllowedError, RawHttpResponse, StorageUnavailableError, UnstorableInputError, UnsupportedMediaTypeError } from '../errors/app-error';
import { bodyTooLargeError, invalidJsonError } from './body-parsing';
import { ErrorCode } from '../errors/error-codes';
import { isDatabaseUnavailable, isInvalidDatabaseInput } from '../errors/database-errors';
import { FrameworkHttpError, RateLimitExceededError, RouteNotFoundError, ServiceUnavailableError } from './http.errors';
import { HttpRequest, HttpResponse, requestPath } from './http-types';
import { RouteIndex } from './route-index';
import { routeTemplate } from './route-template';

/**
 * Fastify's own request errors (`FST_…` with a 4xx `statusCode`: body too large, bad content length, media type) as the
 * errors the Express path gives for the same request.
 */
function fastifyError(exception: unknown): AppError | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { code, statusCode } = exception as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number' || statusCode >= 500) return undefined;
  if (statusCode === 413) return bodyTooLargeError();
  if (statusCode === 415) return new UnsupportedMediaTypeError(undefined);
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return invalidJsonError();
  return new FrameworkHttpError(statusCode, exception.message);
}

const DENIALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['PERMISSION_DENIED', 'PRIVILEGE_ESCALATION']);

/** The one exception filter: every error leaves as `{error: {code, message, details, request_id}}`. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteIndex,
    private readonly audit?: AuditSink,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    void this.handle(exception, host);
  }

  private async handle(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<HttpRequest>();
    const res = ctx.getResponse<HttpResponse>();
    if (exception instanceof RawHttpResponse) {
      for (const [name, value] of Object.entries(exception.headers)) this.adapterHost.httpAdapter.setHeader(res, name, value);
      this.adapterHost.httpAdapter.reply(res, exception.body, exception.status);
      return;
    }
    const error = this.toAppError(exception, req);

    // Fastify hands filters its reply; the access log and `headersSent` live on the Node response behind it.
    const raw = ((res as { raw?: HttpResponse }).raw ?? res) as HttpResponse;
    if (error.status >= 500) {
      // The full error goes to the log (with the request id), never to the client.
      Object.assign(raw, { err: exception });
      this.logger.error({ err: exception, request_id: req.id, code: error.code }, 'request failed');
    }
    if (DENIALS.has(error.code)) await this.recordDenial(req, error);
    if (raw.headersSent) {
      raw.end();
      return;
    }
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(res, name, value);
    adapter.reply(res, { error: { code: error.code, message: error.message, details: error.details, request_id: req.id } }, error.status);
  }

  /** Denials are audited (SPEC §6) in a transaction of their own: the request itself rolled back. */
  private async recordDenial(req: HttpRequest, error: AppError): Promise<void> {
    if (!this.audit) return;
    try {
      await this.audit.recordDetached({
        action: 'permission.denied',
        resourceType: 'route',
        resourceId: `${req.method} ${routeTemplate(req)}`,
        outcome: 'failure',
        payload: { code: error.code, details: error.details },
      });
    } catch (auditError) {
      this.logger.error({ err: auditError, request_id: req.id }, 'could not audit a permission denial');
    }
  }

  private toAppError(exception: unknown, req: HttpRequest): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof ThrottlerException) return new RateLimitExceededError();
    const fastify = fastifyError(exception);
    if (fastify) return fastify;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && exception.message.startsWith('Cannot ')) {
        const path = requestPath(req);
        const allowed = this.routes.allowedMethods(path);
        if (allowed.length > 0 && !allowed.includes(req.method)) return new MethodNotAllowedError(req.method, path, allowed);
        return new RouteNotFoundError(req.method, path);
      }
      if (status >= 500) return status === 503 ? new ServiceUnavailableError(exception.message) : new InternalError();
      return new FrameworkHttpError(status, exception.message);
    }
    if (isDatabaseUnavailable(exception)) return new StorageUnavailableError();
    if (isInvalidDatabaseInput(exception)) {
      // An input check missed this value: a 400 for the client, a warning for whoever closes the gap.
      this.logger.warn({ err: exception, request_id: req.id }, 'the database refused a value no input check caught');
      return new UnstorableInputError();
    }
    return new InternalError();
  }
}
