import { NotFoundError } from '../../common/errors/app-error';

export class ApiKeyNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('API key', id);
  }
}
