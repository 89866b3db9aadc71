import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { ApiKeyContextRow, ApiKeyRow } from './api-key.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class ApiKeysRepository extends BaseRepository {
  insert(tenantId: TenantId, k: Pick<ApiKeyRow, 'id' | 'name' | 'prefix' | 'key_hash' | 'permissions' | 'created_by' | 'expires_at'>): Promise<ApiKeyRow> {
    return this.oneRequired<ApiKeyRow>(
      `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, permissions, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [k.id, tenantId, k.name, k.prefix, k.key_hash, k.permissions, k.created_by, k.expires_at],
    );
  }

  /** `createdBy`: only that user's keys (null: every key of the tenant). */
  list(tenantId: TenantId, createdBy: string | null, page: PageRequest): Promise<ApiKeyRow[]> {
    return this.listKeyset<ApiKeyRow>('api_keys', tenantId, page, { created_by: createdBy ?? undefined });
  }

  async find(tenantId: TenantId, id: string, createdBy: string | null = null): Promise<ApiKeyRow | undefined> {
    const key = await this.findOneInTenant<ApiKeyRow>('api_keys', tenantId, id);
    return key && (createdBy === null || key.created_by === createdBy) ? key : undefined;
  }

  revoke(tenantId: TenantId, id: string, createdBy: string | null): Promise<ApiKeyRow | undefined> {
    return this.one<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 AND ($3::text IS NULL OR created_by = $3) RETURNING *`,
      [tenantId, id, createdBy],
    );
  }

  delete(tenantId: TenantId, id: string, createdBy: string | null): Promise<ApiKeyRow | undefined> {
    return this.one<ApiKeyRow>(`DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2 AND ($3::text IS NULL OR created_by = $3) RETURNING *`, [tenantId, id, createdBy]);
  }

  /**
   * Lookup by HMAC (unique index): the credential path, before any tenant is known. One digest per pepper (current,
   * then previous ones during a rotation), all in one index lookup.
   */
  findContextByHash(keyHashes: string[]): Promise<ApiKeyContextRow | undefined> {
    return this.one<ApiKeyContextRow>(
      `SELECT k.*, t.status AS tenant_status, m.status AS creator_member_status, u.is_platform_admin AS creator_is_platform_admin
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id JOIN users u ON u.id = k.created_by
         LEFT JOIN tenant_members m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by
        WHERE k.key_hash = ANY($1::text[])`,
      [keyHashes],
    );
  }

  /** A key found under a previous pepper moves to the current one, marked used in the same statement. */
  rehash(tenantId: TenantId, id: string, fromHash: string, toHash: string): Promise<void> {
    return this.rows(`UPDATE api_keys SET key_hash = $4, last_used_at = now() WHERE tenant_id = $1 AND id = $2 AND key_hash = $3`, [tenantId, id, fromHash, toHash]).then(
      () => undefined,
    );
  }

  /** Batched `last_used_at` bumps (one statement for many keys). */
  touch(ids: string[]): Promise<void> {
    return this.rows(`UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1)`, [ids]).then(() => undefined);
  }
}
