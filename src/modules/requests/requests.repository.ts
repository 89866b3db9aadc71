import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { RequestRow, WrapRow } from './request.entity';

/** What the caller may see without `request.read_all`: their own requests and those they can approve now. */
export interface Visibility {
  /** Workspaces where the caller holds `request.read_all`; `['*']` when it holds it tenant-wide. */
  readAllWorkspaces: string[];
  userId: string;
  /** The caller's role assignments (parallel arrays) for the "can approve the current stage" test. */
  roleIds: string[];
  scopeTypes: string[];
  scopeIds: string[];
}

export interface RequestFilter {
  requesterId?: string;
  status?: string;
  type?: string;
  workspaceId?: string;
  /** Inbox: only pending requests whose current stage the caller may decide, not their own, not decided by them. */
  inbox?: boolean;
}

const CAN_DECIDE = `(r.status = 'pending_approval' AND (
    (r.workflow->'stages'->r.current_stage->'approver_user_ids') ? $3
    OR EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[], $6::text[]) AS g(role_id, scope_type, scope_id)
                WHERE (r.workflow->'stages'->r.current_stage->'approver_role_ids') ? g.role_id
                  AND ((g.scope_type = 'tenant' AND g.scope_id = r.tenant_id) OR (g.scope_type = 'workspace' AND g.scope_id = r.workspace_id)
                       OR (g.scope_type = 'environment' AND g.scope_id = r.environment_id)))))`;

@Injectable()
export class RequestsRepository extends BaseRepository {
  insert(tenantId: string, r: Pick<RequestRow, 'id' | 'type' | 'title' | 'reason' | 'status' | 'requester_id' | 'workspace_id' | 'environment_id' | 'secret_id' | 'target' | 'access_duration_seconds'>): Promise<RequestRow> {
    return this.one<RequestRow>(
      `INSERT INTO requests (id, tenant_id, type, title, reason, status, requester_id, workspace_id, environment_id, secret_id, target, access_duration_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [r.id, tenantId, r.type, r.title, r.reason, r.status, r.requester_id, r.workspace_id, r.environment_id, r.secret_id, r.target === null ? null : JSON.stringify(r.target), r.access_duration_seconds],
    ).then((x) => x!);
  }

  /** The row, locked for the rest of the transaction: concurrent transitions on one request serialise here. */
  lock(tenantId: string, id: string): Promise<RequestRow | undefined> {
    return this.one<RequestRow>(`SELECT * FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
  }

  find(tenantId: string, id: string): Promise<RequestRow | undefined> {
    return this.one<RequestRow>(`SELECT * FROM requests WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  update(tenantId: string, id: string, patch: Partial<Omit<RequestRow, 'id' | 'tenant_id'>>): Promise<RequestRow> {
    const entries = Object.entries(patch);
    const sets = entries.map(([k], i) => `${k} = $${i + 3}`);
    const values = entries.map(([, v]) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
    return this.one<RequestRow>(`UPDATE requests SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id, ...values]).then((x) => x!);
  }

  list(tenantId: string, v: Visibility, f: RequestFilter, page: PageRequest): Promise<RequestRow[]> {
    return this.rows<RequestRow>(
      `SELECT r.* FROM requests r
        WHERE r.tenant_id = $1
          AND (${f.inbox ? `${CAN_DECIDE} AND $2::text[] IS NOT NULL AND r.requester_id <> $3 AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.stage = r.current_stage AND a.approver_id = $3)` : `'*' = ANY($2::text[]) OR r.workspace_id = ANY($2::text[]) OR r.requester_id = $3 OR ${CAN_DECIDE}`})
          AND ($7::text IS NULL OR r.requester_id = $7) AND ($8::text IS NULL OR r.status = $8) AND ($9::text IS NULL OR r.type = $9)
          AND ($10::text IS NULL OR r.workspace_id = $10) AND ($11::text IS NULL OR r.id > $11)
        ORDER BY r.id LIMIT $12`,
      [tenantId, v.readAllWorkspaces, v.userId, v.roleIds, v.scopeTypes, v.scopeIds, f.requesterId ?? null, f.status ?? null, f.type ?? null, f.workspaceId ?? null, page.after ?? null, page.limit + 1],
    );
  }

  /** Pending requests past their approval deadline, locked for the sweeper (other replicas skip them). */
  lockExpired(limit: number): Promise<RequestRow[]> {
    return this.rows<RequestRow>(
      `SELECT * FROM requests WHERE status = 'pending_approval' AND approval_expires_at < now() ORDER BY approval_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  insertWrap(tenantId: string, w: Pick<WrapRow, 'id' | 'request_id' | 'kind' | 'dek_id' | 'wrapped_dek' | 'iv' | 'tag' | 'ciphertext' | 'agent_id' | 'expires_at'>): Promise<WrapRow> {
    return this.one<WrapRow>(
      `INSERT INTO wraps (id, tenant_id, request_id, kind, dek_id, wrapped_dek, iv, tag, ciphertext, agent_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [w.id, tenantId, w.request_id, w.kind, w.dek_id, w.wrapped_dek, w.iv, w.tag, w.ciphertext, w.agent_id, w.expires_at],
    ).then((x) => x!);
  }

  /** A request's wraps of one kind in id order; keyset from `after`, at most `limit` (all when omitted). */
  listWraps(tenantId: string, requestId: string, kind: 'read' | 'patch', after?: string, limit?: number): Promise<WrapRow[]> {
    return this.rows<WrapRow>(
      `SELECT * FROM wraps WHERE tenant_id = $1 AND request_id = $2 AND kind = $3 AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
      [tenantId, requestId, kind, after ?? null, limit ?? null],
    );
  }

  lockWrap(tenantId: string, id: string): Promise<WrapRow | undefined> {
    return this.one<WrapRow>(`SELECT * FROM wraps WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
  }

  /** Marks the wrap consumed and destroys its key material and ciphertext in the same statement. */
  async consumeWrap(tenantId: string, id: string): Promise<void> {
    await this.rows(
      `UPDATE wraps SET consumed_at = now(), ciphertext = NULL, iv = NULL, tag = NULL, wrapped_dek = NULL WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
  }
}
