import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ExclusiveRunner, LOCKS } from '../../common/db/exclusive-runner';
import { AuditService } from '../audit/audit.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { transition } from './request-lifecycle';
import { requestEventData } from './request-transitions.service';
import { RequestsRepository } from './requests.repository';
import { asTenantId } from '../../common/db/tenant-id';
import { AppConfig } from '../../config/app-config';

const BATCH = 200;

/** Pending requests past `approval_timeout_seconds` → expired. One replica runs it (advisory lock, counted runs). */
@Injectable()
export class RequestExpirySweeper implements OnApplicationBootstrap {
  constructor(
    private readonly repo: RequestsRepository,
    private readonly audit: AuditService,
    private readonly runner: ExclusiveRunner,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly webhooks: WebhooksService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.runner.every('request-expiry', LOCKS.requestExpiry, this.config.requestExpiryIntervalMs, async () => {
      await this.expireStale();
    });
  }

  /** One batch in one transaction; returns how many requests expired. */
  async expireStale(): Promise<number> {
    return this.txHost.withTransaction(async () => {
      const rows = await this.repo.lockExpired(BATCH);
      for (const row of rows) {
        const expired = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, 'expire'), decided_at: new Date() });
        await this.webhooks.emit(asTenantId(row.tenant_id), 'request.expired', requestEventData(expired));
        await this.audit.record({ action: 'request.expired', resourceType: 'request', resourceId: row.id, tenantId: row.tenant_id, actor: { type: 'system', id: null, label: 'request-expiry' }, outcome: 'failure' });
      }
      return rows.length;
    });
  }
}
