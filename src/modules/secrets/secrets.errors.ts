import { NotFoundError } from '../../common/errors/app-error';

export class SecretNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Secret', id);
  }
}
