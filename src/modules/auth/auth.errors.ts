import { AppError, NotFoundError } from '../../common/errors/app-error';

export class SetupAlreadyCompletedError extends AppError {
  constructor() {
    super(409, 'SETUP_ALREADY_COMPLETED', 'Setup has already been completed; sign in instead.');
  }
}

/** With HS256 tokens there is no public key to publish. */
export class JwksNotPublishedError extends NotFoundError {
  constructor() {
    super('JSON Web Key Set (tokens are HS256-signed)');
  }
}

/** A session opened through a tenant's identity provider stays in that tenant; sign in to the other one instead. */
export class SsoSessionTenantBoundError extends AppError {
  constructor() {
    super(403, 'PERMISSION_DENIED', 'This session was opened through the tenant’s identity provider and cannot switch tenants; sign in to the other tenant instead.');
  }
}
