import { ConflictError, NotFoundError } from '../../common/errors/app-error';

export class TenantNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Tenant', id);
  }
}

export class TenantSlugTakenError extends ConflictError {
  constructor(slug: string) {
    super(`A tenant with slug "${slug}" already exists.`, 'CONFLICT', [{ field: 'slug', issue: 'is taken' }]);
  }
}
