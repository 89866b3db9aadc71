import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { iso } from '../../common/api/time';
import { ExclusiveRunner, LOCKS } from '../../common/db/exclusive-runner';
import { AppConfig } from '../../config/app-config';
import { WebhooksService } from '../webhooks/webhooks.service';
import { AgentsRepository } from './agents.repository';
import { asTenantId } from '../../common/db/tenant-id';

const INTERVAL_MS = 5000;
const BATCH = 200;

/**
 * Announces `agent.offline` (webhooks) once per lapse: an agent whose heartbeat is older than
 * `AGENT_OFFLINE_AFTER_SECONDS` is announced and marked in one transaction; a new heartbeat re-arms it.
 * One replica runs it (advisory lock, counted runs, shown in health).
 */
@Injectable()
export class AgentOfflineNotifier implements OnApplicationBootstrap {
  constructor(
    private readonly repo: AgentsRepository,
    private readonly webhooks: WebhooksService,
    private readonly runner: ExclusiveRunner,
    private readonly config: AppConfig,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  onApplicationBootstrap(): void {
    this.runner.every('agent-offline-notifier', LOCKS.agentOfflineNotifier, INTERVAL_MS, async () => {
      await this.announceLapsed();
    });
  }

  /** One batch in one transaction; returns how many agents were announced. */
  async announceLapsed(): Promise<number> {
    return this.txHost.withTransaction(async () => {
      const rows = await this.repo.lockLapsed(this.config.agents.offlineAfterSeconds, BATCH);
      for (const a of rows) {
        await this.webhooks.emit(asTenantId(a.tenant_id), 'agent.offline', {
          agent_id: a.id,
          name: a.name,
          cluster_name: a.cluster_name,
          workspace_id: a.workspace_id,
          environment_id: a.environment_id,
          last_seen_at: iso(a.last_seen_at),
          offline_after_seconds: this.config.agents.offlineAfterSeconds,
        });
        await this.repo.markOfflineNotified(asTenantId(a.tenant_id), a.id);
      }
      return rows.length;
    });
  }
}
