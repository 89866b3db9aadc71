import { ErrorCode } from './error-codes';

/**
 * Every error a client may see: a stable code (from the catalog), an HTTP status, a message and optional details.
 * Abstract: each error is a named class (in its module's `*.errors.ts`) that fixes its status and code.
 */
export abstract class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown[] | null = null,
    /** Extra response headers (e.g. `Retry-After`, `Allow`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  field: string;
  issue: string;
}

export class ValidationFailedError extends AppError {
  constructor(details: FieldIssue[], message = 'The request is invalid.') {
    super(400, 'VALIDATION_FAILED', message, details);
  }
}

/** PostgreSQL refused a value the request carried (e.g. a NUL byte) that no input check caught: still the client's 400. */
export class UnstorableInputError extends AppError {
  constructor() {
    super(400, 'VALIDATION_FAILED', 'The request holds a value that cannot be stored (for example a NUL character).');
  }
}

export class InvalidCursorError extends AppError {
  constructor() {
    super(400, 'INVALID_CURSOR', 'The pagination cursor is invalid.', [{ field: 'cursor', issue: 'is not a cursor this API issued' }]);
  }
}

export class NotFoundError extends AppError {
  constructor(resource = 'Resource', id?: string) {
    super(404, 'NOT_FOUND', id ? `${resource} ${id} was not found.` : `${resource} was not found.`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code: ErrorCode = 'CONFLICT', details: unknown[] | null = null) {
    super(409, code, message, details);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allowed: string[]) {
    super(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}.`, [{ allowed }], { Allow: allowed.join(', ') });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: string) {
    super(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit}.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(contentType: string | undefined) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', `Request bodies must be application/json${contentType ? `, not ${contentType}` : ''}.`);
  }
}

export class StorageUnavailableError extends AppError {
  constructor() {
    super(503, 'STORAGE_UNAVAILABLE', 'The database is unreachable; retry later.', null, { 'Retry-After': '5' });
  }
}

export class ShuttingDownError extends AppError {
  constructor() {
    super(503, 'SHUTTING_DOWN', 'This instance is shutting down; retry on another.', null, { 'Retry-After': '1', Connection: 'close' });
  }
}

export class InternalError extends AppError {
  constructor() {
    super(500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
  }
}

/** A response whose body is not the error envelope (probe payloads): rendered as given, with its status. */
export class RawHttpResponse extends Error {
  constructor(
    readonly status: number,
    /** An object (serialised as JSON) or, for byte-exact replays, the JSON text itself. */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** 204 with no body, for handlers whose answer depends on the outcome (e.g. a claim that found no job). */
export class NoContentResponse extends RawHttpResponse {
  constructor() {
    super(204, '');
  }
}
