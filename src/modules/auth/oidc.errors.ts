import { AppError, NotFoundError } from '../../common/errors/app-error';

/** Why a sign-in through an identity provider was refused (`details[0].issue`; also the audit event's `reason`). */
export type OidcFailureReason =
  | 'invalid_state'
  | 'provider_error'
  | 'token_exchange_failed'
  | 'id_token_invalid'
  | 'email_missing'
  | 'email_not_verified'
  | 'domain_not_allowed'
  | 'account_not_eligible'
  | 'membership_disabled';

export class AuthProviderNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Identity provider', id);
  }
}

/** The callback could not be trusted: unknown, used or expired `state`, a refused code exchange or an invalid ID token. */
export class OidcLoginFailedError extends AppError {
  constructor(readonly reason: OidcFailureReason, message: string) {
    super(401, 'OIDC_LOGIN_FAILED', message, [{ field: 'reason', issue: reason }]);
  }
}

/** The provider vouched for the person, but the tenant's rules refuse the account (unverified email, other domain…). */
export class OidcAccountRefusedError extends AppError {
  constructor(readonly reason: OidcFailureReason, message: string) {
    super(403, 'OIDC_ACCOUNT_REFUSED', message, [{ field: 'reason', issue: reason }]);
  }
}

/** The issuer's discovery document or JWKS could not be fetched, or the redirect URI is not configured. */
export class OidcProviderUnavailableError extends AppError {
  constructor(message: string, readonly detail = message) {
    super(503, 'SERVICE_UNAVAILABLE', message);
  }
}

/** Registration: the issuer named in the request does not serve a discovery document for itself. */
export class IssuerNotDiscoverableError extends AppError {
  constructor(detail: string) {
    super(422, 'UNPROCESSABLE_ENTITY', `The issuer could not be discovered: ${detail}`, [{ field: 'issuer', issue: 'could not be discovered (/.well-known/openid-configuration)' }]);
  }
}

/** The tenant signs in through its identity provider; only its owners keep a password (break-glass). */
export class PasswordLoginDisabledError extends AppError {
  constructor() {
    super(403, 'PASSWORD_LOGIN_DISABLED', 'Password sign-in is turned off for this tenant; sign in through its identity provider.');
  }
}
