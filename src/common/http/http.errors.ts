import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-codes';

/** 429 with the rate-limit headers (`Retry-After`, `X-RateLimit-*`) when the limiter knows them. */
export class RateLimitExceededError extends AppError {
  constructor(message = 'Too many requests; retry later.', headers: Record<string, string> = {}) {
    super(429, 'RATE_LIMIT_EXCEEDED', message, null, headers);
  }
}

/** No route matches the path (any method): Nest's own 404, re-issued as ours. */
export class RouteNotFoundError extends AppError {
  constructor(method: string, path: string) {
    super(404, 'NOT_FOUND', `No route for ${method} ${path}.`);
  }
}

/** A framework 503 (e.g. a health indicator's): the message is the framework's own. */
export class ServiceUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'SERVICE_UNAVAILABLE', message);
  }
}

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
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

/** A framework `HttpException` below 500 (a pipe's 400, a 4xx thrown by a library): its status, the status's code. */
export class FrameworkHttpError extends AppError {
  constructor(status: number, message: string) {
    super(status, CODE_OF_STATUS[status] ?? 'ERROR', message);
  }
}
