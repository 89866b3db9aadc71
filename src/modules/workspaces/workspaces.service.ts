import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { isoRequired } from '../../common/api/time';
import { CorePermission } from '../../common/auth/permission-catalog';
import { Principal, requirePermission, workspacesWith } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { CreateEnvironmentDto, CreateWorkspaceDto, EnvironmentDto, ListWorkspacesQueryDto, UpdateWorkspaceDto, WorkspaceDto } from './dto/workspace.dto';
import { EnvironmentRow, WorkspaceRow } from './workspace.entity';
import { EnvironmentNameTakenError, EnvironmentNotFoundError, ScopeInUseError, WorkspaceNotFoundError, WorkspaceSlugTakenError } from './workspaces.errors';
import { WorkspacesRepository } from './workspaces.repository';
import { DeletedScope, ScopeDependents } from './scope-dependents';
import { AuditService } from '../audit/audit.service';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { TenantId } from '../../common/db/tenant-id';

export const toWorkspaceDto = (w: WorkspaceRow): WorkspaceDto => ({
  id: w.id,
  tenant_id: w.tenant_id,
  slug: w.slug,
  display_name: w.display_name,
  capabilities: w.capabilities,
  status: w.status,
  created_at: isoRequired(w.created_at),
  updated_at: isoRequired(w.updated_at),
});

export const toEnvironmentDto = (e: EnvironmentRow): EnvironmentDto => ({
  id: e.id,
  tenant_id: e.tenant_id,
  workspace_id: e.workspace_id,
  name: e.name,
  protected: e.protected,
  created_at: isoRequired(e.created_at),
});

/** Where a scope id points, for role assignments and authorization checks. */
export interface ScopeRef {
  workspaceId: string;
  environmentId: string | null;
}

@Injectable()
export class WorkspacesService {
  private readonly dependents: ScopeDependents[] = [];

  constructor(
    private readonly repo: WorkspacesRepository,
    private readonly audit: AuditService,
  ) {}

  @Transactional()
  async create(principal: Principal, dto: CreateWorkspaceDto): Promise<WorkspaceDto> {
    requirePermission(principal, 'workspace.manage', {});
    if (await this.repo.slugTaken(principal.tenantId, dto.slug)) throw new WorkspaceSlugTakenError(dto.slug);
    const row = await this.repo.insert(principal.tenantId, { id: newId('workspace'), slug: dto.slug, display_name: dto.display_name, capabilities: dto.capabilities ?? [] });
    if (!row) throw new WorkspaceSlugTakenError(dto.slug); // lost a race on the same slug
    await this.audit.record({ action: 'workspace.created', resourceType: 'workspace', resourceId: row.id, payload: { slug: dto.slug, capabilities: row.capabilities } });
    return toWorkspaceDto(row);
  }

  async list(principal: Principal, query: ListWorkspacesQueryDto): Promise<Page<WorkspaceDto>> {
    const visible = workspacesWith(principal, 'workspace.read');
    const page = toPageRequest(query);
    const rows = await this.repo.list(principal.tenantId, { status: query.status ?? 'active', ids: visible === 'all' ? undefined : visible }, page);
    return toPage(rows, page, toWorkspaceDto);
  }

  async get(principal: Principal, id: string): Promise<WorkspaceDto> {
    return toWorkspaceDto(await this.readable(principal, id, 'workspace.read'));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateWorkspaceDto): Promise<WorkspaceDto> {
    await this.readable(principal, id, 'workspace.manage');
    const row = await this.repo.update(principal.tenantId, id, dto);
    if (!row) throw new WorkspaceNotFoundError(id);
    await this.audit.record({ action: 'workspace.updated', resourceType: 'workspace', resourceId: id, payload: { changes: { ...dto } } });
    return toWorkspaceDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<WorkspaceDto> {
    await this.readable(principal, id, 'workspace.manage');
    // SPEC: 409 IN_USE while requests of it are executing. The workspace's agents and tokens stop working with it.
    const busy = await this.dependentsOf(principal.tenantId, { type: 'workspace', id });
    if (busy.length) throw new ScopeInUseError('workspace', busy);
    const row = await this.repo.softDelete(principal.tenantId, id);
    if (!row) throw new WorkspaceNotFoundError(id);
    await this.audit.record({ action: 'workspace.deleted', resourceType: 'workspace', resourceId: id });
    return toWorkspaceDto(row);
  }

  @Transactional()
  async createEnvironment(principal: Principal, workspaceId: string, dto: CreateEnvironmentDto): Promise<EnvironmentDto> {
    await this.readable(principal, workspaceId, 'workspace.manage');
    const row = await this.repo.insertEnvironment(principal.tenantId, { id: newId('environment'), workspace_id: workspaceId, name: dto.name, protected: dto.protected ?? false });
    if (!row) throw new EnvironmentNameTakenError(dto.name);
    await this.audit.record({ action: 'environment.created', resourceType: 'environment', resourceId: row.id, payload: { workspace_id: workspaceId, name: dto.name, protected: row.protected } });
    return toEnvironmentDto(row);
  }

  async listEnvironments(principal: Principal, workspaceId: string, query: PaginationQueryDto): Promise<Page<EnvironmentDto>> {
    await this.readable(principal, workspaceId, 'workspace.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.listEnvironments(principal.tenantId, workspaceId, page), page, toEnvironmentDto);
  }

  @Transactional()
  async removeEnvironment(principal: Principal, id: string): Promise<void> {
    const env = await this.repo.findEnvironment(principal.tenantId, id);
    if (!env) throw new EnvironmentNotFoundError(id);
    requirePermission(principal, 'workspace.manage', { workspaceId: env.workspace_id, environmentId: env.id });
    const usedBy = await this.dependentsOf(principal.tenantId, { type: 'environment', id });
    if (usedBy.length) throw new ScopeInUseError('environment', usedBy);
    await this.repo.deleteEnvironment(principal.tenantId, id);
    await this.audit.record({ action: 'environment.deleted', resourceType: 'environment', resourceId: id, payload: { workspace_id: env.workspace_id, name: env.name } });
  }

  /** Modules with rows under a workspace or environment say, with their own query, when those block its deletion. */
  addScopeDependents(dependents: ScopeDependents): void {
    this.dependents.push(dependents);
  }

  /** What blocks deleting the scope, by name (sorted: the order modules registered in is not part of the answer). */
  private async dependentsOf(tenantId: TenantId, scope: DeletedScope): Promise<string[]> {
    const blocking: string[] = [];
    // One after the other: they share the transaction's connection.
    for (const d of this.dependents) if (await d.blocksDeletion(tenantId, scope)) blocking.push(d.what);
    return blocking.sort();
  }

  /** Resolves a workspace or environment id of the tenant to its scope, or undefined when it does not exist. */
  async resolveScope(tenantId: TenantId, type: 'workspace' | 'environment', id: string): Promise<ScopeRef | undefined> {
    if (type === 'workspace') {
      const w = await this.repo.find(tenantId, id);
      return w ? { workspaceId: w.id, environmentId: null } : undefined;
    }
    const e = await this.repo.findEnvironment(tenantId, id);
    return e ? { workspaceId: e.workspace_id, environmentId: e.id } : undefined;
  }

  /** An environment's name and protection flag (policy input), or undefined when it is not in the tenant. */
  async environmentInfo(tenantId: TenantId, envId: string): Promise<{ name: string; protected: boolean } | undefined> {
    const e = await this.repo.findEnvironment(tenantId, envId);
    return e ? { name: e.name, protected: e.protected } : undefined;
  }

  /** The workspace if it exists in the caller's tenant (else 404) and the caller holds `permission` on it (else 403). */
  private async readable(principal: Principal, id: string, permission: CorePermission): Promise<WorkspaceRow> {
    const row = await this.repo.find(principal.tenantId, id);
    if (!row) throw new WorkspaceNotFoundError(id);
    requirePermission(principal, permission, { workspaceId: row.id });
    return row;
  }
}
