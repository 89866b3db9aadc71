import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { TenantRow } from './tenant.entity';

/** Tenants are the root of tenancy: queries here are by id (platform scope), not by a tenant column. */
@Injectable()
export class TenantsRepository extends BaseRepository {
  insert(t: Pick<TenantRow, 'id' | 'slug' | 'display_name' | 'plan'>): Promise<TenantRow | undefined> {
    return this.one<TenantRow>(
      `INSERT INTO tenants (id, slug, display_name, plan) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING RETURNING *`,
      [t.id, t.slug, t.display_name, t.plan],
    );
  }

  list(filter: { status?: string; plan?: string; onlyId?: string }, page: PageRequest): Promise<TenantRow[]> {
    return this.rows<TenantRow>(
      `SELECT * FROM tenants WHERE (CASE WHEN $1::text IS NULL THEN status <> 'deleted' ELSE status = $1 END)
          AND ($2::text IS NULL OR plan = $2) AND ($3::text IS NULL OR id = $3) AND ($4::text IS NULL OR id > $4)
        ORDER BY id LIMIT $5`,
      [filter.status ?? null, filter.plan ?? null, filter.onlyId ?? null, page.after ?? null, page.limit + 1],
    );
  }

  find(id: string, includeDeleted = false): Promise<TenantRow | undefined> {
    return this.one<TenantRow>(`SELECT * FROM tenants WHERE id = $1 AND ($2 OR status <> 'deleted')`, [id, includeDeleted]);
  }

  update(id: string, patch: { display_name?: string; plan?: string; status?: string; password_login?: boolean }): Promise<TenantRow | undefined> {
    return this.one<TenantRow>(
      `UPDATE tenants SET display_name = COALESCE($2, display_name), plan = COALESCE($3, plan), status = COALESCE($4, status),
              password_login = COALESCE($5, password_login)
        WHERE id = $1 AND status <> 'deleted' RETURNING *`,
      [id, patch.display_name ?? null, patch.plan ?? null, patch.status ?? null, patch.password_login ?? null],
    );
  }

  softDelete(id: string): Promise<TenantRow | undefined> {
    return this.one<TenantRow>(`UPDATE tenants SET status = 'deleted', deleted_at = now() WHERE id = $1 AND status <> 'deleted' RETURNING *`, [id]);
  }
}
