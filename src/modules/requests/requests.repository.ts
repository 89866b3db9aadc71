import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { RequestStatus } from './request-lifecycle';
import { RequestRow } from './request.entity';
import { TenantId } from '../../common/db/tenant-id';

/** What the caller may see without `request.read_all`: their own requests and those they may decide now. */
export interface Visibility {
  /** Workspace and environment ids where the caller holds `request.read_all`; `['*']` when it holds it tenant-wide. */
  readAllScopes: string[];
  userId: string;
  /** The roles the caller holds at any scope (narrows "may decide"; eligibility itself is decided in TypeScript). */
  roleIds: string[];
  /** The groups the caller is a member of (same narrowing). */
  groupIds: string[];
}

export interface RequestFilter {
  requesterId?: string;
  status?: string;
  type?: string;
  workspaceId?: string;
  /** Inbox: only pending requests whose current stage names the caller or one of their roles, not their own, not decided by them. */
  inbox?: boolean;
}

/**
 * A narrowing, not a decision: pending requests whose current stage names the caller, one of the caller's roles or one
 * of the caller's groups.
 * Whether the caller is eligible (role at the request's scope, request.approve there) is decided per row by
 * `ApprovalEligibilityService`, the one source of truth.
 */
const NAMED_IN_STAGE = `(r.status = 'pending_approval' AND (
    (r.workflow->'stages'->r.current_stage->'approver_user_ids') ? $3
    OR (r.workflow->'stages'->r.current_stage->'approver_role_ids') ?| $4::text[]
    OR (r.workflow->'stages'->r.current_stage->'approver_group_ids') ?| $11::text[]))`;

@Injectable()
export class RequestsRepository extends BaseRepository {
  insert(tenantId: TenantId, r: Pick<RequestRow, 'id' | 'type' | 'title' | 'reason' | 'status' | 'requester_id' | 'workspace_id' | 'environment_id' | 'secret_id' | 'target' | 'access_duration_seconds'>): Promise<RequestRow> {
    return this.oneRequired<RequestRow>(
      `INSERT INTO requests (id, tenant_id, type, title, reason, status, requester_id, workspace_id, environment_id, secret_id, target, access_duration_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [r.id, tenantId, r.type, r.title, r.reason, r.status, r.requester_id, r.workspace_id, r.environment_id, r.secret_id, r.target === null ? null : JSON.stringify(r.target), r.access_duration_seconds],
    );
  }

  /** The row, locked for the rest of the transaction: concurrent transitions on one request serialise here. */
  lock(tenantId: TenantId, id: string): Promise<RequestRow | undefined> {
    return this.findOneInTenant<RequestRow>('requests', tenantId, id, { lock: 'FOR UPDATE' });
  }

  find(tenantId: TenantId, id: string): Promise<RequestRow | undefined> {
    return this.findOneInTenant<RequestRow>('requests', tenantId, id);
  }

  update(tenantId: TenantId, id: string, patch: Partial<Omit<RequestRow, 'id' | 'tenant_id'>>): Promise<RequestRow> {
    const entries = Object.entries(patch);
    const sets = entries.map(([k], i) => `${k} = $${i + 3}`);
    const values = entries.map(([, v]) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
    return this.oneRequired<RequestRow>(`UPDATE requests SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id, ...values]);
  }

  list(tenantId: TenantId, v: Visibility, f: RequestFilter, page: PageRequest): Promise<RequestRow[]> {
    return this.rows<RequestRow>(
      `SELECT r.* FROM requests r
        WHERE r.tenant_id = $1
          AND (${f.inbox ? `${NAMED_IN_STAGE} AND $2::text[] IS NOT NULL AND r.requester_id <> $3 AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.stage = r.current_stage AND a.approver_id = $3)` : `'*' = ANY($2::text[]) OR r.workspace_id = ANY($2::text[]) OR r.environment_id = ANY($2::text[]) OR r.requester_id = $3 OR ${NAMED_IN_STAGE}`})
          AND ($5::text IS NULL OR r.requester_id = $5) AND ($6::text IS NULL OR r.status = $6) AND ($7::text IS NULL OR r.type = $7)
          AND ($8::text IS NULL OR r.workspace_id = $8) AND ($9::text IS NULL OR r.id > $9)
        ORDER BY r.id LIMIT $10`,
      [tenantId, v.readAllScopes, v.userId, v.roleIds, f.requesterId ?? null, f.status ?? null, f.type ?? null, f.workspaceId ?? null, page.after ?? null, page.limit + 1, v.groupIds],
    );
  }

  /** How many requests of these types are not final yet (a plugin cannot be removed under them). */
  async countInFlight(tenantId: TenantId, types: string[], inFlight: readonly string[]): Promise<number> {
    if (!types.length) return 0;
    const row = await this.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM requests WHERE tenant_id = $1 AND type = ANY($2::text[]) AND status = ANY($3::text[])`,
      [tenantId, types, inFlight],
    );
    return row?.n ?? 0;
  }

  /** True while a request of the workspace or environment is in one of `statuses`. */
  existsInScope(tenantId: TenantId, scope: { column: 'workspace_id' | 'environment_id'; id: string }, statuses: readonly RequestStatus[]): Promise<boolean> {
    const column = scope.column === 'workspace_id' ? 'workspace_id' : 'environment_id';
    return this.one<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM requests WHERE tenant_id = $1 AND ${column} = $2 AND status = ANY($3::text[])) AS found`, [
      tenantId,
      scope.id,
      statuses,
    ]).then((r) => r?.found === true);
  }

  /** Pending requests past their approval deadline, locked for the sweeper (other replicas skip them). */
  lockExpired(limit: number): Promise<RequestRow[]> {
    return this.rows<RequestRow>(
      `SELECT * FROM requests WHERE status = 'pending_approval' AND approval_expires_at < now() ORDER BY approval_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }
}
