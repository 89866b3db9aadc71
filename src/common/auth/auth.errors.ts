import { AppError } from '../errors/app-error';

export class AuthenticationRequiredError extends AppError {
  constructor(message = 'Authentication is required.') {
    super(401, 'AUTHENTICATION_REQUIRED', message, null, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class InvalidCredentialsError extends AppError {
  constructor(message = 'The credentials are invalid.') {
    super(401, 'INVALID_CREDENTIALS', message, null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

export class TokenExpiredError extends AppError {
  constructor() {
    super(401, 'TOKEN_EXPIRED', 'The token has expired.', null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

export class TokenRevokedError extends AppError {
  constructor(message = 'The credentials have been revoked.') {
    super(401, 'TOKEN_REVOKED', message, null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

export class PermissionDeniedError extends AppError {
  /** `scope: 'tenant'` when the permission is held, but not at tenant scope (tenant-level resources, SPEC §2). */
  constructor(permission: string, message?: string, scope?: 'tenant') {
    super(403, 'PERMISSION_DENIED', message ?? `This needs the ${permission} permission${scope ? ` at ${scope} scope` : ''}.`, [scope ? { permission, scope } : { permission }]);
  }
}

export class PrivilegeEscalationError extends AppError {
  constructor(permissions: string[], scope: string) {
    super(403, 'PRIVILEGE_ESCALATION', `You cannot grant permissions you do not hold at ${scope}: ${permissions.join(', ')}.`, [
      { permissions, scope },
    ]);
  }
}

/** A route without `@Public()` or `@Authenticated()` (start-up refuses those; this guards the gap): refused, never open. */
export class UndeclaredRouteError extends AppError {
  constructor() {
    super(500, 'INTERNAL_ERROR', 'This route declares no access rule and is refused.');
  }
}

/** The route is not for this kind of credential (e.g. an agent secret on a user route). */
export class PrincipalTypeNotAllowedError extends AppError {
  constructor(type: string, allowed: readonly string[]) {
    super(403, 'PERMISSION_DENIED', `This route is not available to ${type.replace('_', ' ')} credentials.`, [{ principal_types: allowed }]);
  }
}
