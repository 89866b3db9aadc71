import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ThrottlerException } from '@nestjs/throttler';
import { AppError, InternalError, MethodNotAllowedError, RawHttpResponse, StorageUnavailableError } from '../errors/app-error';
import { isDatabaseUnavailable } from '../errors/database-errors';
import { HttpRequest, HttpResponse } from './http-types';
import { RouteIndex } from './route-index';

const STATUS_CODES: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'AUTHENTICATION_REQUIRED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  410: 'GONE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMIT_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
};

/** The one exception filter: every error leaves as `{error: {code, message, details, request_id}}`. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteIndex,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<HttpRequest>();
    const res = ctx.getResponse<HttpResponse>();
    if (exception instanceof RawHttpResponse) {
      this.adapterHost.httpAdapter.reply(res, exception.body, exception.status);
      return;
    }
    const error = this.toAppError(exception, req);

    if (error.status >= 500) {
      // The full error goes to the log (with the request id), never to the client.
      (res as unknown as { err?: unknown }).err = exception;
      this.logger.error({ err: exception, request_id: req.id, code: error.code }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(res, name, value);
    adapter.reply(res, { error: { code: error.code, message: error.message, details: error.details, request_id: req.id } }, error.status);
  }

  private toAppError(exception: unknown, req: HttpRequest): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof ThrottlerException) return new AppError(429, 'RATE_LIMIT_EXCEEDED', 'Too many requests; retry later.');
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && exception.message.startsWith('Cannot ')) {
        const allowed = this.routes.allowedMethods(req.path);
        if (allowed.length > 0 && !allowed.includes(req.method)) return new MethodNotAllowedError(req.method, req.path, allowed);
        return new AppError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}.`);
      }
      if (status >= 500) return status === 503 ? new AppError(503, 'SERVICE_UNAVAILABLE', exception.message) : new InternalError();
      return new AppError(status, STATUS_CODES[status] ?? 'ERROR', exception.message);
    }
    if (isDatabaseUnavailable(exception)) return new StorageUnavailableError();
    return new InternalError();
  }
}
