import { WebhookDeliveriesTable } from '../../common/db/schema.generated';
import { TableRow } from '../../common/db/row-types';

/** A KMS envelope of a signing secret (base64 fields), bound to the tenant and webhook. */
export interface SealedSecret {
  wrapped_dek: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export type WebhookRow = TableRow<'webhooks', { secret: SealedSecret; previous_secret: SealedSecret }>;

export type DeliveryStatus = WebhookDeliveriesTable['status'];

export type WebhookDeliveryRow = TableRow<'webhook_deliveries', { payload: Record<string, unknown> }>;
