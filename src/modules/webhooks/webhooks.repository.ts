import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { SealedSecret, WebhookDeliveryRow, WebhookRow } from './webhook.entity';
import { TenantId } from '../../common/db/tenant-id';

export type WebhookPatch = Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'enabled' | 'secret' | 'previous_secret' | 'previous_secret_expires_at' | 'disabled_reason'>>;

/** A claimed delivery with what the dispatcher needs of its endpoint. */
export interface ClaimedDelivery extends WebhookDeliveryRow {
  url: string;
  format: 'json' | 'slack';
  webhook_enabled: boolean;
  secret: SealedSecret;
  previous_secret: SealedSecret | null;
  previous_secret_expires_at: Date | null;
}

const PATCHABLE = ['url', 'events', 'description', 'enabled', 'secret', 'previous_secret', 'previous_secret_expires_at', 'disabled_reason'] as const;

@Injectable()
export class WebhooksRepository extends BaseRepository {
  insert(tenantId: TenantId, w: Pick<WebhookRow, 'id' | 'url' | 'events' | 'description' | 'format' | 'secret' | 'created_by'>): Promise<WebhookRow> {
    return this.oneRequired<WebhookRow>(
      `INSERT INTO webhooks (id, tenant_id, url, events, description, format, secret, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [w.id, tenantId, w.url, w.events, w.description, w.format, JSON.stringify(w.secret), w.created_by],
    );
  }

  list(tenantId: TenantId, page: PageRequest): Promise<WebhookRow[]> {
    return this.listKeyset<WebhookRow>('webhooks', tenantId, page);
  }

  find(tenantId: TenantId, id: string, forUpdate = false): Promise<WebhookRow | undefined> {
    return this.findOneInTenant<WebhookRow>('webhooks', tenantId, id, { lock: forUpdate ? 'FOR UPDATE' : undefined });
  }

  /** Enabled endpoints of the tenant (matched against the event by the caller). */
  listEnabled(tenantId: TenantId): Promise<WebhookRow[]> {
    return this.rows<WebhookRow>(`SELECT * FROM webhooks WHERE tenant_id = $1 AND enabled ORDER BY id`, [tenantId]);
  }

  update(tenantId: TenantId, id: string, patch: WebhookPatch): Promise<WebhookRow | undefined> {
    const keys = PATCHABLE.filter((k) => patch[k] !== undefined);
    const values = keys.map((k) => (k === 'secret' || k === 'previous_secret') && patch[k] !== null ? JSON.stringify(patch[k]) : patch[k]);
    const sets = keys.map((k, i) => `${k} = $${i + 3}`);
    // Re-enabling starts the failure count afresh.
    if (patch.enabled === true) sets.push('consecutive_failures = 0', 'failing_since = NULL', 'disabled_reason = NULL');
    sets.push('updated_at = now()');
    return this.one<WebhookRow>(`UPDATE webhooks SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id, ...values]);
  }

  delete(tenantId: TenantId, id: string): Promise<WebhookRow | undefined> {
    return this.one<WebhookRow>(`DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  insertDeliveries(tenantId: TenantId, rows: Pick<WebhookDeliveryRow, 'id' | 'webhook_id' | 'event_id' | 'event' | 'payload'>[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return this.rows(
      `INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id, event, payload)
       SELECT d.id, $1, d.webhook_id, d.event_id, d.event, d.payload FROM jsonb_to_recordset($2::jsonb) AS d(id text, webhook_id text, event_id text, event text, payload jsonb)`,
      [tenantId, JSON.stringify(rows)],
    ).then(() => undefined);
  }

  hasChainBrokenEvent(tenantId: TenantId, firstInvalidId: string | null): Promise<boolean> {
    return this.one<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1 AND event = 'audit.chain_broken' AND payload->'data'->>'first_invalid_id' IS NOT DISTINCT FROM $2) AS found`,
      [tenantId, firstInvalidId],
    ).then((r) => r?.found ?? false);
  }

  listDeliveries(tenantId: TenantId, webhookId: string, page: PageRequest): Promise<WebhookDeliveryRow[]> {
    return this.listKeyset<WebhookDeliveryRow>('webhook_deliveries', tenantId, page, { webhook_id: webhookId });
  }

  /** A delivery due again now, whatever its state (redeliver). */
  requeue(tenantId: TenantId, webhookId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
    return this.one<WebhookDeliveryRow>(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL, created_at = CASE WHEN status = 'pending' THEN created_at ELSE now() END
        WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3 RETURNING *`,
      [tenantId, webhookId, id],
    );
  }

  /**
   * Claims up to `limit` due deliveries for `leaseSeconds` across every tenant (the dispatcher's own query): rows
   * another replica holds are skipped, so no delivery is sent twice while its lease runs.
   */
  claimDue(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    return this.rows<ClaimedDelivery>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
          ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       , claimed AS (
         UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $2) FROM due WHERE d.id = due.id RETURNING d.*)
       SELECT c.*, w.url, w.format, w.enabled AS webhook_enabled, w.secret, w.previous_secret, w.previous_secret_expires_at
         FROM claimed c JOIN webhooks w ON w.id = c.webhook_id AND w.tenant_id = c.tenant_id
        ORDER BY c.created_at, c.id`,
      [limit, leaseSeconds],
    );
  }

  /** The outcome of one attempt; the lease is released. */
  recordAttempt(tenantId: TenantId, id: string, r: { status: 'pending' | 'delivered' | 'failed'; statusCode: number | null; error: string | null; nextAttemptAt: Date | null }): Promise<void> {
    return this.rows(
      `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, last_status_code = $4, last_error = $5,
              next_attempt_at = COALESCE($6, next_attempt_at), locked_until = NULL, delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, r.status, r.statusCode, r.error, r.nextAttemptAt],
    ).then(() => undefined);
  }

  /** A delivery whose endpoint is disabled or gone is dropped as failed without an attempt. */
  abandon(tenantId: TenantId, id: string, reason: string): Promise<void> {
    return this.rows(`UPDATE webhook_deliveries SET status = 'failed', last_error = $3, locked_until = NULL WHERE tenant_id = $1 AND id = $2`, [tenantId, id, reason]).then(() => undefined);
  }

  /** Endpoint health after an attempt: success resets; failure counts and remembers since when. Returns the row. */
  noteOutcome(tenantId: TenantId, webhookId: string, ok: boolean): Promise<WebhookRow | undefined> {
    return this.one<WebhookRow>(
      ok
        ? `UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE tenant_id = $1 AND id = $2 RETURNING *`
        : `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, failing_since = COALESCE(failing_since, now()) WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, webhookId],
    );
  }

  /** Disables an endpoint that is still enabled; undefined when another replica already did. */
  autoDisable(tenantId: TenantId, webhookId: string, reason: string): Promise<WebhookRow | undefined> {
    return this.one<WebhookRow>(`UPDATE webhooks SET enabled = false, disabled_reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND enabled RETURNING *`, [tenantId, webhookId, reason]);
  }

  /** Outbox depth and the age of its oldest pending row (metrics, health backlog). */
  outboxStats(): Promise<{ depth: number; oldest_seconds: number }> {
    return this.one<{ depth: string; oldest_seconds: string | null }>(
      `SELECT count(*) AS depth, EXTRACT(EPOCH FROM now() - min(created_at)) AS oldest_seconds FROM webhook_deliveries WHERE status = 'pending'`,
    ).then((r) => ({ depth: Number(r?.depth ?? 0), oldest_seconds: Number(r?.oldest_seconds ?? 0) }));
  }
}
