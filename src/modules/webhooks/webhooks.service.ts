import { lookup } from 'node:dns/promises';
import { Inject, Injectable } from '@nestjs/common';
import { Propagation, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { iso, isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { envelopeDecrypt, envelopeEncrypt, fromB64, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';
import { ValidationFailedError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { CreatedWebhookDto, CreateWebhookDto, UpdateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { checkWebhookUrl } from './ssrf-guard';
import { isValidSubscription, subscribes, WebhookEvent, WebhookPayload } from './webhook-events';
import { newSigningSecret } from './webhook-signature';
import { SealedSecret, WebhookDeliveryRow, WebhookRow } from './webhook.entity';
import { WebhookDeliveryNotFoundError, WebhookNotFoundError } from './webhooks.errors';
import { WebhooksRepository } from './webhooks.repository';
import { TenantId } from '../../common/db/tenant-id';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

const secretContext = (tenantId: string, webhookId: string) => `webhook-secret:${tenantId}:${webhookId}`;

const toWebhookDto = (w: WebhookRow): WebhookDto => ({
  id: w.id,
  tenant_id: w.tenant_id,
  url: w.url,
  events: w.events,
  description: w.description,
  format: w.format,
  enabled: w.enabled,
  disabled_reason: w.disabled_reason,
  previous_secret_expires_at: w.previous_secret && w.previous_secret_expires_at && w.previous_secret_expires_at > new Date() ? iso(w.previous_secret_expires_at) : null,
  created_at: isoRequired(w.created_at),
  updated_at: isoRequired(w.updated_at),
});

const toDeliveryDto = (d: WebhookDeliveryRow): WebhookDeliveryDto => ({
  id: d.id,
  webhook_id: d.webhook_id,
  event_id: d.event_id,
  event: d.event,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.last_status_code,
  last_error: d.last_error,
  next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
  delivered_at: iso(d.delivered_at),
  created_at: isoRequired(d.created_at),
});

/**
 * Webhook endpoints of a tenant (SPEC §3) and the outbox: `emit` writes one delivery per matching enabled endpoint
 * in the caller's transaction, so a rolled-back change sends nothing and a committed one is never lost. Sending is
 * `WebhookDispatcher`'s job.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    @Inject(KMS) private readonly kms: Kms,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {
    this.audit.onChainBroken((tenantId, finding) => this.announceChainBroken(tenantId, finding));
  }

  @Transactional()
  async create(principal: Principal, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    requireTenantPermission(principal, 'webhook.manage');
    await this.checkUrl(dto.url);
    const events = this.checkEvents(dto.events);
    const id = newId('webhook');
    const secret = newSigningSecret();
    const row = await this.repo.insert(principal.tenantId, {
      id,
      url: dto.url,
      events,
      description: dto.description ?? null,
      format: dto.format ?? 'json',
      secret: await this.seal(principal.tenantId, id, secret),
      created_by: principal.userId ?? principal.id,
    });
    await this.audit.record({ action: 'webhook.created', resourceType: 'webhook', resourceId: id, payload: { url: row.url, events, format: row.format } });
    return { ...toWebhookDto(row), signing_secret: secret };
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<WebhookDto>> {
    requireTenantPermission(principal, 'webhook.manage');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, toWebhookDto);
  }

  async get(principal: Principal, id: string): Promise<WebhookDto> {
    requireTenantPermission(principal, 'webhook.manage');
    return toWebhookDto(await this.find(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    requireTenantPermission(principal, 'webhook.manage');
    await this.find(principal.tenantId, id, true);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const events = dto.events !== undefined ? this.checkEvents(dto.events) : undefined;
    const row = await this.repo.update(principal.tenantId, id, { url: dto.url, events, description: dto.description, enabled: dto.enabled });
    await this.audit.record({ action: 'webhook.updated', resourceType: 'webhook', resourceId: id, payload: { url: dto.url, events, description: dto.description, enabled: dto.enabled } });
    if (!row) throw new WebhookNotFoundError(id); // deleted meanwhile
    return toWebhookDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'webhook.manage');
    const row = await this.repo.delete(principal.tenantId, id);
    if (!row) throw new WebhookNotFoundError(id);
    await this.audit.record({ action: 'webhook.deleted', resourceType: 'webhook', resourceId: id, payload: { url: row.url } });
  }

  /** A new secret, shown once; the current one becomes the previous and keeps signing for 24 h. */
  @Transactional()
  async rotateSecret(principal: Principal, id: string): Promise<CreatedWebhookDto> {
    requireTenantPermission(principal, 'webhook.manage');
    const current = await this.find(principal.tenantId, id, true);
    const secret = newSigningSecret();
    const expires = new Date(Date.now() + ROTATION_OVERLAP_MS);
    const row = await this.repo.update(principal.tenantId, id, { secret: await this.seal(principal.tenantId, id, secret), previous_secret: current.secret, previous_secret_expires_at: expires });
    await this.audit.record({ action: 'webhook.secret_rotated', resourceType: 'webhook', resourceId: id, payload: { previous_valid_until: expires.toISOString() } });
    if (!row) throw new WebhookNotFoundError(id);
    return { ...toWebhookDto(row), signing_secret: secret };
  }

  async deliveries(principal: Principal, id: string, query: PaginationQueryDto): Promise<Page<WebhookDeliveryDto>> {
    requireTenantPermission(principal, 'webhook.manage');
    await this.find(principal.tenantId, id);
    const page = toPageRequest(query);
    return toPage(await this.repo.listDeliveries(principal.tenantId, id, page), page, toDeliveryDto);
  }

  @Transactional()
  async redeliver(principal: Principal, id: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    requireTenantPermission(principal, 'webhook.manage');
    await this.find(principal.tenantId, id);
    const row = await this.repo.requeue(principal.tenantId, id, deliveryId);
    if (!row) throw new WebhookDeliveryNotFoundError(deliveryId);
    await this.audit.record({ action: 'webhook.redelivery_requested', resourceType: 'webhook', resourceId: id, payload: { delivery_id: deliveryId, event: row.event } });
    return toDeliveryDto(row);
  }

  /** Queues a `ping` to this endpoint only (for a disabled endpoint it is dropped as failed: enable it first). */
  @Transactional()
  async test(principal: Principal, id: string): Promise<{ delivery_id: string }> {
    requireTenantPermission(principal, 'webhook.manage');
    const row = await this.find(principal.tenantId, id);
    const [deliveryId] = await this.enqueue(principal.tenantId, [row], 'ping', { webhook_id: id, message: 'Countersign webhook test' });
    await this.audit.record({ action: 'webhook.tested', resourceType: 'webhook', resourceId: id, payload: { delivery_id: deliveryId } });
    return { delivery_id: deliveryId };
  }

  /**
   * Records `event` for every enabled endpoint of the tenant subscribed to it, in the caller's transaction (the
   * outbox). Returns the delivery ids.
   */
  async emit(tenantId: TenantId, event: Exclude<WebhookEvent, 'ping'>, data: Record<string, unknown>): Promise<string[]> {
    const targets = (await this.repo.listEnabled(tenantId)).filter((w) => subscribes(w.events, event));
    return this.enqueue(tenantId, targets, event, data);
  }

  /**
   * `audit.chain_broken`, in a transaction of its own (verification reads only), once per first invalid event: a
   * repeated verification of the same break announces nothing new.
   */
  private async announceChainBroken(tenantId: TenantId, finding: { checked: number; first_invalid_id: string | null }): Promise<void> {
    await this.txHost.withTransaction(Propagation.RequiresNew, async () => {
      if (await this.repo.hasChainBrokenEvent(tenantId, finding.first_invalid_id)) return;
      await this.emit(tenantId, 'audit.chain_broken', { first_invalid_id: finding.first_invalid_id, checked: finding.checked, detected_by: 'verify' });
    });
  }

  /** The secrets that sign now: the current one, and the previous one while its overlap lasts. */
  async signingSecrets(tenantId: string, webhookId: string, s: { secret: SealedSecret; previous_secret: SealedSecret | null; previous_secret_expires_at: Date | null }): Promise<string[]> {
    const secrets = [await this.unseal(tenantId, webhookId, s.secret)];
    if (s.previous_secret && s.previous_secret_expires_at && s.previous_secret_expires_at > new Date()) secrets.push(await this.unseal(tenantId, webhookId, s.previous_secret));
    return secrets;
  }

  private async enqueue(tenantId: TenantId, targets: WebhookRow[], event: WebhookEvent, data: Record<string, unknown>): Promise<string[]> {
    if (!targets.length) return [];
    const payload: WebhookPayload = { id: newId('webhookEvent'), type: event, created_at: new Date().toISOString(), tenant_id: tenantId, ...(event === 'request.break_glass' ? { urgent: true } : {}), data };
    const rows = targets.map((w) => ({ id: newId('delivery'), webhook_id: w.id, event_id: payload.id, event, payload: { ...payload } }));
    await this.repo.insertDeliveries(tenantId, rows);
    return rows.map((r) => r.id);
  }

  private async find(tenantId: TenantId, id: string, forUpdate = false): Promise<WebhookRow> {
    const row = await this.repo.find(tenantId, id, forUpdate);
    if (!row) throw new WebhookNotFoundError(id);
    return row;
  }

  private async checkUrl(url: string): Promise<void> {
    const check = await checkWebhookUrl(url, this.config.webhooks.allowPrivateNetworks, async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address));
    if (!check.ok) throw new ValidationFailedError([{ field: 'url', issue: check.issue }]);
  }

  private checkEvents(events: string[]): string[] {
    const bad = events.filter((e) => !isValidSubscription(e));
    if (bad.length) throw new ValidationFailedError(bad.map((e) => ({ field: 'events', issue: `unknown event "${e}"` })));
    if (!events.length) throw new ValidationFailedError([{ field: 'events', issue: 'must name at least one event' }]);
    return [...new Set(events)].sort();
  }

  private async seal(tenantId: string, webhookId: string, secret: string): Promise<SealedSecret> {
    const e = await envelopeEncrypt(this.kms, Buffer.from(secret, 'utf8'), secretContext(tenantId, webhookId));
    return { wrapped_dek: e.wrappedDek, iv: toB64(e.iv), tag: toB64(e.tag), ciphertext: toB64(e.ciphertext) };
  }

  private async unseal(tenantId: string, webhookId: string, s: SealedSecret): Promise<string> {
    const clear = await envelopeDecrypt(this.kms, { wrappedDek: s.wrapped_dek, iv: fromB64(s.iv), tag: fromB64(s.tag), ciphertext: fromB64(s.ciphertext) }, secretContext(tenantId, webhookId));
    return clear.toString('utf8');
  }
}
