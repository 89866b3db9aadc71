import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ExclusiveRunner } from '../../common/db/exclusive-runner';
import { MetricsService } from '../../common/observability/metrics.service';
import { AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { isWebhookPayload, toSlackMessage } from './webhook-events';
import { postWebhook, SEND_TIMEOUT_MS, SendResult } from './webhook-sender';
import { signatureHeader } from './webhook-signature';
import { ClaimedDelivery, WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';
import { asTenantId } from '../../common/db/tenant-id';

export const DISPATCHER_TASK = 'webhook-dispatcher';
/** Deliveries are retried for this long after the event, then marked failed. */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const MAX_DELAY_MS = 3600 * 1000;
/** An endpoint is disabled after this many failures in a row, or when it has failed everything for the retry window. */
export const DISABLE_AFTER_FAILURES = 50;
const BATCH = 20;
/** Outlives the slowest batch (one endpoint's deliveries go one after another, each up to the send timeout). */
const LEASE_SECONDS = Math.ceil((BATCH * SEND_TIMEOUT_MS) / 1000) + 30;
const LOG_PERIOD_MS = 60_000;

/** Exponential back-off with ±25 % jitter: base, 2·base, 4·base … capped at an hour. */
export function retryDelayMs(attempts: number, baseMs: number, random = Math.random): number {
  const raw = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.75 + random() * 0.5));
}

/**
 * Sends the outbox. Runs on every replica (no advisory lock): each tick claims due deliveries with
 * `FOR UPDATE SKIP LOCKED` and a lease, so replicas share the work and none sends a delivery another holds.
 * Counted and shown in health like every background task; stops with the app (in-flight requests aborted).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly abort = new AbortController();
  private readonly lastLogged = new Map<string, { message: string; at: number }>();

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly webhooks: WebhooksService,
    private readonly runner: ExclusiveRunner,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  onApplicationBootstrap(): void {
    this.runner.every(DISPATCHER_TASK, null, this.config.webhooks.dispatchIntervalMs, () => this.dispatchDue().then(() => undefined));
  }

  beforeApplicationShutdown(): void {
    this.abort.abort();
  }

  /** One round: claim, send concurrently, record. Returns how many deliveries were attempted. */
  async dispatchDue(): Promise<number> {
    if (this.abort.signal.aborted) return 0;
    const claimed = await this.repo.claimDue(BATCH, LEASE_SECONDS);
    // Endpoints in parallel; one endpoint's deliveries one after the other, in the order their events happened.
    const byEndpoint = new Map<string, ClaimedDelivery[]>();
    for (const d of claimed) byEndpoint.set(d.webhook_id, [...(byEndpoint.get(d.webhook_id) ?? []), d]);
    // Once an endpoint is disabled (here, or by its owner meanwhile), the rest of its batch is dropped, not sent.
    await Promise.all([...byEndpoint.values()].map(async (queue) => {
      let enabled = true;
      for (const d of queue) enabled = enabled ? await this.deliver(d) : await this.drop(d);
    }));
    const stats = await this.repo.outboxStats();
    this.metrics.outboxDepth.set(stats.depth);
    this.metrics.outboxOldest.set(stats.oldest_seconds);
    this.runner.reportBacklog(DISPATCHER_TASK, stats.depth);
    return claimed.length;
  }

  private async drop(d: ClaimedDelivery): Promise<false> {
    await this.repo.abandon(asTenantId(d.tenant_id), d.id, 'endpoint disabled');
    this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
    return false;
  }

  /** Sends one delivery and records the outcome; returns whether the endpoint is still enabled. */
  private async deliver(d: ClaimedDelivery): Promise<boolean> {
    if (!d.webhook_enabled) return this.drop(d);
    const payload: unknown = d.payload;
    if (!isWebhookPayload(payload)) throw new Error(`Webhook delivery ${d.id} holds no event envelope.`);
    const body = JSON.stringify(d.format === 'slack' ? toSlackMessage(payload, this.config.publicUrl) : payload);
    let result: SendResult;
    try {
      const secrets = await this.webhooks.signingSecrets(d.tenant_id, d.webhook_id, d);
      result = await postWebhook(
        d.url,
        body,
        { 'x-countersign-event': d.event, 'x-countersign-delivery': d.id, 'x-countersign-signature': signatureHeader(secrets, body, Math.floor(Date.now() / 1000)) },
        this.config.webhooks.allowPrivateNetworks,
        this.abort.signal,
      );
    } catch (e) {
      result = { ok: false, statusCode: null, error: e instanceof Error ? e.message : String(e) };
    }
    const error = result.error?.slice(0, 500) ?? null;
    if (result.ok) {
      await this.repo.recordAttempt(asTenantId(d.tenant_id), d.id, { status: 'delivered', statusCode: result.statusCode, error: null, nextAttemptAt: null });
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      this.lastLogged.delete(d.webhook_id);
    } else {
      const next = new Date(Date.now() + retryDelayMs(d.attempts + 1, this.config.webhooks.retryBaseMs));
      const expired = next.getTime() > new Date(d.created_at).getTime() + RETRY_WINDOW_MS;
      await this.repo.recordAttempt(asTenantId(d.tenant_id), d.id, { status: expired ? 'failed' : 'pending', statusCode: result.statusCode, error, nextAttemptAt: expired ? null : next });
      this.metrics.webhookDeliveries.inc({ outcome: expired ? 'failed' : 'retry' });
      this.logFailure(d, error ?? 'failed');
    }
    return this.noteEndpointHealth(d, result.ok);
  }

  /** A repeated identical failure of one endpoint is logged once per period, not once per attempt. */
  private logFailure(d: ClaimedDelivery, message: string): void {
    const last = this.lastLogged.get(d.webhook_id);
    if (last && last.message === message && Date.now() - last.at < LOG_PERIOD_MS) return;
    this.lastLogged.set(d.webhook_id, { message, at: Date.now() });
    this.logger.warn({ webhook_id: d.webhook_id, delivery_id: d.id, tenant_id: d.tenant_id, attempts: d.attempts + 1, error: message }, 'webhook delivery failed');
  }

  /** Counts the outcome against the endpoint and disables it past the threshold; returns whether it is still enabled. */
  private async noteEndpointHealth(d: ClaimedDelivery, ok: boolean): Promise<boolean> {
    const w = await this.repo.noteOutcome(asTenantId(d.tenant_id), d.webhook_id, ok);
    if (!w || !w.enabled) return false;
    if (ok) return true;
    const failingFor = w.failing_since ? Date.now() - new Date(w.failing_since).getTime() : 0;
    if (w.consecutive_failures < DISABLE_AFTER_FAILURES && failingFor < RETRY_WINDOW_MS) return true;
    const reason = `disabled after ${w.consecutive_failures} consecutive failed deliveries`;
    await this.txHost.withTransaction(Propagation.RequiresNew, async () => {
      const disabled = await this.repo.autoDisable(asTenantId(d.tenant_id), d.webhook_id, reason);
      if (!disabled) return;
      await this.audit.record({
        action: 'webhook.auto_disabled',
        resourceType: 'webhook',
        resourceId: d.webhook_id,
        tenantId: d.tenant_id,
        actor: { type: 'system', id: null, label: DISPATCHER_TASK },
        outcome: 'failure',
        payload: { reason, consecutive_failures: w.consecutive_failures, failing_since: w.failing_since },
      });
    });
    return false;
  }
}
