/** A KMS envelope of a signing secret (base64 fields), bound to the tenant and webhook. */
export interface SealedSecret {
  wrapped_dek: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface WebhookRow {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  description: string | null;
  format: 'json' | 'slack';
  enabled: boolean;
  secret: SealedSecret;
  previous_secret: SealedSecret | null;
  previous_secret_expires_at: Date | null;
  consecutive_failures: number;
  failing_since: Date | null;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRow {
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  locked_until: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}
