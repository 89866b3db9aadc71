/**
 * Every `error.code` a client may receive (SPEC "Error codes and statuses"), grouped by the status it comes with.
 * `AppError.code` takes only these: a new code is a reviewed API change made here, and a typo fails `tsc`.
 */
export const ERROR_CODES = [
  // 400
  'VALIDATION_FAILED',
  'INVALID_CURSOR',
  // 401
  'AUTHENTICATION_REQUIRED',
  'INVALID_CREDENTIALS',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'OIDC_LOGIN_FAILED',
  // 403
  'PERMISSION_DENIED',
  'PRIVILEGE_ESCALATION',
  'OIDC_ACCOUNT_REFUSED',
  'PASSWORD_LOGIN_DISABLED',
  // 404, 405
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  // 409
  'CONFLICT',
  'INVALID_STATE_TRANSITION',
  'IDEMPOTENCY_KEY_IN_USE',
  'IDEMPOTENCY_REPLAY_UNAVAILABLE',
  'LEASE_LOST',
  'SETUP_ALREADY_COMPLETED',
  'IN_USE',
  'LAST_OWNER',
  // 410
  'GONE',
  'WRAP_CONSUMED',
  'WRAP_EXPIRED',
  // 413, 415
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  // 422
  'UNPROCESSABLE_ENTITY',
  'IDEMPOTENCY_KEY_REUSED',
  'SELF_APPROVAL_FORBIDDEN',
  'NOT_AN_ELIGIBLE_APPROVER',
  'ALREADY_DECIDED',
  'POLICY_DENIED',
  'INVALID_TARGET',
  'PLUGIN_MANIFEST_INVALID',
  // 429
  'RATE_LIMIT_EXCEEDED',
  // 500
  'INTERNAL_ERROR',
  // 503
  'STORAGE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'SERVICE_UNAVAILABLE',
  /** A framework HTTP exception whose status has no code of its own (none is expected; kept so it still has one). */
  'ERROR',
] as const;

/** One of the codes a client may receive. */
export type ErrorCode = (typeof ERROR_CODES)[number];
