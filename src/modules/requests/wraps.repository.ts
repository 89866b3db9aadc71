import { Injectable } from '@nestjs/common';
import { BaseRepository } from '../../common/db/base.repository';
import { WrapRow } from './request.entity';
import { TenantId } from '../../common/db/tenant-id';

/** The `wraps` table: read-flow values sealed by agents, patch-flow values sealed on arrival. */
@Injectable()
export class WrapsRepository extends BaseRepository {
  insertWrap(tenantId: TenantId, w: Pick<WrapRow, 'id' | 'request_id' | 'kind' | 'dek_id' | 'wrapped_dek' | 'iv' | 'tag' | 'ciphertext' | 'agent_id' | 'expires_at'>): Promise<WrapRow> {
    return this.oneRequired<WrapRow>(
      `INSERT INTO wraps (id, tenant_id, request_id, kind, dek_id, wrapped_dek, iv, tag, ciphertext, agent_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [w.id, tenantId, w.request_id, w.kind, w.dek_id, w.wrapped_dek, w.iv, w.tag, w.ciphertext, w.agent_id, w.expires_at],
    );
  }

  /** A request's wraps of one kind in id order; keyset from `after`, at most `limit` (all when omitted). */
  listWraps(tenantId: TenantId, requestId: string, kind: 'read' | 'patch', after?: string, limit?: number): Promise<WrapRow[]> {
    return this.rows<WrapRow>(
      `SELECT * FROM wraps WHERE tenant_id = $1 AND request_id = $2 AND kind = $3 AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
      [tenantId, requestId, kind, after ?? null, limit ?? null],
    );
  }

  lockWrap(tenantId: TenantId, id: string): Promise<WrapRow | undefined> {
    return this.findOneInTenant<WrapRow>('wraps', tenantId, id, { lock: 'FOR UPDATE' });
  }

  /** Deletes wraps that were never revealed (a re-delivered job's newer wrap replaces them). */
  async deleteUnrevealed(tenantId: TenantId, ids: string[]): Promise<void> {
    await this.rows(`DELETE FROM wraps WHERE tenant_id = $1 AND id = ANY($2::text[]) AND consumed_at IS NULL`, [tenantId, ids]);
  }

  /** Marks the wrap consumed and destroys its key material and ciphertext in the same statement. */
  async consumeWrap(tenantId: TenantId, id: string): Promise<void> {
    await this.rows(
      `UPDATE wraps SET consumed_at = now(), ciphertext = NULL, iv = NULL, tag = NULL, wrapped_dek = NULL WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
  }
}
