import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { isoRequired } from '../../common/api/time';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { holdsTenantWide, Principal } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { RolesService } from '../roles/roles.service';
import { UsersService } from '../users/users.service';
import { CreatedTenantDto, CreateTenantDto, ListTenantsQueryDto, TenantDto, UpdateTenantDto } from './dto/tenant.dto';
import { TenantRow } from './tenant.entity';
import { TenantNotFoundError, TenantSlugTakenError } from './tenants.errors';
import { TenantsRepository } from './tenants.repository';
import { AuditService } from '../audit/audit.service';
import { asTenantId } from '../../common/db/tenant-id';

export const toTenantDto = (t: TenantRow): TenantDto => ({
  id: t.id,
  slug: t.slug,
  display_name: t.display_name,
  plan: t.plan,
  status: t.status,
  password_login: t.password_login,
  created_at: isoRequired(t.created_at),
  updated_at: isoRequired(t.updated_at),
});

/**
 * Platform admins manage every tenant. A tenant role holding `tenant.manage` (owner) reaches its own tenant only,
 * and only platform admins create tenants. Other tenants are 404, never 403.
 */
@Injectable()
export class TenantsService {
  constructor(
    private readonly repo: TenantsRepository,
    private readonly users: UsersService,
    private readonly roles: RolesService,
    private readonly audit: AuditService,
  ) {}

  /** A tenant with its built-in roles; the owner-to-be gets `owner` at tenant scope. Same transaction as the caller's. */
  async createWithOwner(input: { slug: string; display_name: string; plan: string }, owner: { userId: string } | { email: string; createdBy: string | null }) {
    const tenant = await this.repo.insert({ id: newId('tenant'), ...input });
    if (!tenant) throw new TenantSlugTakenError(input.slug);
    const roleIds = await this.roles.createBuiltIns(asTenantId(tenant.id));
    let userId: string;
    let invitationToken: string | undefined;
    if ('userId' in owner) {
      userId = owner.userId;
      await this.users.addToTenantById(asTenantId(tenant.id), userId);
    } else {
      const added = await this.users.addToTenant(asTenantId(tenant.id), owner.email, owner.email.split('@')[0], undefined, owner.createdBy);
      userId = added.user.id;
      invitationToken = added.invitationToken;
    }
    await this.roles.assignSystem(asTenantId(tenant.id), userId, roleIds.owner);
    return { tenant, userId, invitationToken };
  }

  @Transactional()
  async create(principal: Principal, dto: CreateTenantDto): Promise<CreatedTenantDto> {
    if (!principal.platformAdmin) throw new PermissionDeniedError('tenant.manage', 'Creating tenants needs tenant.manage at platform scope.');
    const { tenant, userId, invitationToken } = await this.createWithOwner(
      { slug: dto.slug, display_name: dto.display_name, plan: dto.plan ?? 'free' },
      { email: dto.admin_email, createdBy: principal.userId ?? null },
    );
    await this.audit.record({ action: 'tenant.created', resourceType: 'tenant', resourceId: tenant.id, payload: { slug: tenant.slug, plan: tenant.plan, admin_user_id: userId, admin_invited: !!invitationToken } });
    return { ...toTenantDto(tenant), admin_user_id: userId, ...(invitationToken ? { admin_invitation_token: invitationToken } : {}) };
  }

  async list(principal: Principal, query: ListTenantsQueryDto): Promise<Page<TenantDto>> {
    const page = toPageRequest(query);
    const onlyId = principal.platformAdmin ? undefined : principal.tenantId;
    return toPage(await this.repo.list({ status: query.status, plan: query.plan, onlyId }, page), page, toTenantDto);
  }

  async get(principal: Principal, id: string): Promise<TenantDto> {
    return toTenantDto(await this.reachable(principal, id, true));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateTenantDto): Promise<TenantDto> {
    await this.reachable(principal, id);
    const row = await this.repo.update(id, dto);
    if (!row) throw new TenantNotFoundError(id);
    await this.audit.record({ action: dto.status === 'suspended' ? 'tenant.suspended' : 'tenant.updated', resourceType: 'tenant', resourceId: id, payload: { changes: { ...dto } } });
    return toTenantDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<TenantDto> {
    await this.reachable(principal, id);
    const row = await this.repo.softDelete(id);
    if (!row) throw new TenantNotFoundError(id);
    await this.audit.record({ action: 'tenant.deleted', resourceType: 'tenant', resourceId: id, payload: { slug: row.slug } });
    return toTenantDto(row);
  }

  findById(id: string): Promise<TenantRow | undefined> {
    return this.repo.find(id, true);
  }

  private async reachable(principal: Principal, id: string, includeDeleted = false): Promise<TenantRow> {
    const ownTenant = id === principal.tenantId && holdsTenantWide(principal, 'tenant.manage');
    if (!principal.platformAdmin && !ownTenant) throw new TenantNotFoundError(id);
    const row = await this.repo.find(id, includeDeleted);
    if (!row) throw new TenantNotFoundError(id);
    return row;
  }
}
