import { NotFoundError } from '../../common/errors/app-error';

export class WebhookNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Webhook', id);
  }
}

export class WebhookDeliveryNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Webhook delivery', id);
  }
}
