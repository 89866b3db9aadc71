import { NotFoundError } from '../../common/errors/app-error';

export class AuditNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Audit event', id);
  }
}
