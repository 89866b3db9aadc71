import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { iso, isoRequired } from '../../common/api/time';
import { Principal, requirePermission, workspacesWith } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { ValidationFailedError } from '../../common/errors/app-error';
import { AuditService } from '../audit/audit.service';
import { BulkSecretsDto, BulkSecretsResultDto, ListSecretsQueryDto, SecretDto } from './dto/secret.dto';
import { SecretRow } from './secret.entity';
import { SecretsRepository } from './secrets.repository';
import { TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { SecretNotFoundError } from './secrets.errors';

export const toSecretDto = (s: SecretRow): SecretDto => ({
  id: s.id,
  tenant_id: s.tenant_id,
  workspace_id: s.workspace_id,
  environment_id: s.environment_id,
  agent_id: s.agent_id,
  cluster_name: s.cluster_name,
  provider: s.provider,
  ref: s.ref,
  labels: s.labels,
  status: s.status,
  first_seen_at: isoRequired(s.first_seen_at),
  last_seen_at: isoRequired(s.last_seen_at),
  removed_at: iso(s.removed_at),
});

function parseLabels(pairs: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const i = pair.indexOf(':');
    labels[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return labels;
}

/** The discovered inventory: metadata only. No route accepts or returns a value. */
@Injectable()
export class SecretsService {
  constructor(
    private readonly repo: SecretsRepository,
    private readonly audit: AuditService,
    workspaces: WorkspacesService,
  ) {
    // Secrets agents still report keep their environment (a deleted workspace takes them with it).
    workspaces.addScopeDependents({ what: 'secrets', blocksDeletion: (tenantId, scope) => (scope.type === 'environment' ? this.repo.hasPresentInEnvironment(tenantId, scope.id) : Promise.resolve(false)) });
  }

  /** An agent reports what it found in its workspace; keyed by (workspace, cluster, provider, ref). */
  @Transactional()
  async bulkUpsert(principal: Principal, dto: BulkSecretsDto): Promise<BulkSecretsResultDto> {
    const seen = new Set<string>();
    const items = dto.secrets.map((s, index) => {
      const labels = s.labels ?? {};
      for (const [k, v] of Object.entries(labels)) {
        if (typeof v !== 'string' || k.length === 0 || k.length > 100 || v.length > 500) {
          throw new ValidationFailedError([{ field: `secrets[${index}].labels.${k}`, issue: 'labels are string keys (1–100) to string values (≤ 500)' }]);
        }
      }
      const identity = `${s.cluster_name}\u0000${s.provider}\u0000${s.ref}`;
      if (seen.has(identity)) throw new ValidationFailedError([{ field: `secrets[${index}]`, issue: 'duplicates an earlier entry (cluster_name, provider, ref)' }]);
      seen.add(identity);
      return { id: newId('secret'), cluster_name: s.cluster_name, provider: s.provider, ref: s.ref, labels, status: s.status ?? 'active' };
    });
    // Agent route: an agent principal is always bound to its workspace.
    const workspaceId = required(principal.workspaceId, `workspace of agent ${principal.id}`);
    const outcomes = items.length
      ? await this.repo.upsertBatch(principal.tenantId, { workspaceId, environmentId: principal.environmentId ?? null, agentId: principal.id }, items)
      : [];
    const result: BulkSecretsResultDto = { created: 0, updated: 0, unchanged: 0, removed: 0 };
    for (const o of outcomes) result[o.outcome]++;
    // Entries owned by another live agent were left as they are.
    const foreign = items.length - outcomes.length;
    result.unchanged += foreign;
    if (dto.full_sync) {
      const clusters = [...new Set([principal.agent?.clusterName ?? '', ...items.map((i) => i.cluster_name)])].filter(Boolean);
      result.removed = await this.repo.markAbsentRemoved(principal.tenantId, workspaceId, principal.id, clusters, outcomes.map((o) => o.id));
    }
    await this.audit.record({ action: 'secrets.synced', resourceType: 'workspace', resourceId: workspaceId, payload: { ...result, full_sync: !!dto.full_sync, reported: items.length, owned_by_other_agents: foreign } });
    return result;
  }

  async list(principal: Principal, query: ListSecretsQueryDto): Promise<Page<SecretDto>> {
    const visible = workspacesWith(principal, 'secret.read_metadata');
    const page = toPageRequest(query);
    const rows = await this.repo.list(
      principal.tenantId,
      {
        clusterName: query.cluster_name,
        provider: query.provider,
        refPrefix: query.ref_prefix,
        status: query.status,
        workspaceIds: visible === 'all' ? undefined : visible,
        workspaceId: query.workspace_id,
        environmentId: query.environment_id,
        labels: parseLabels(query.label),
      },
      page,
    );
    return toPage(rows, page, toSecretDto);
  }

  async get(principal: Principal, id: string): Promise<SecretDto> {
    return toSecretDto(await this.readable(principal, id));
  }

  /** The secret row of the tenant, without a permission check (callers check their own permission). */
  findInTenant(tenantId: TenantId, id: string): Promise<SecretRow | undefined> {
    return this.repo.find(tenantId, id);
  }

  /** The secret row when the caller may see its metadata (requests use it to take workspace and environment). */
  async readable(principal: Principal, id: string): Promise<SecretRow> {
    const row = await this.repo.find(principal.tenantId, id);
    if (!row) throw new SecretNotFoundError(id);
    requirePermission(principal, 'secret.read_metadata', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    return row;
  }
}
