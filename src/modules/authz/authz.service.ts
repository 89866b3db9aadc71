import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TargetScope } from '../../common/auth/escalation';
import { isCorePermission } from '../../common/auth/permission-catalog';
import { ValidationFailedError } from '../../common/errors/app-error';
import { Principal } from '../../common/auth/principal';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { RolesService } from '../roles/roles.service';
import { UsersService } from '../users/users.service';
import { AuditService } from '../audit/audit.service';
import { AuthzCheckDto, AuthzDecisionDto, AuthzExplanationDto, AuthzSourceDto } from './dto/authz.dto';
import { TenantId } from '../../common/db/tenant-id';
import { sideBySide } from '../../common/db/side-by-side';

const covers = (source: { scope_type: string; scope_id: string }, target: TargetScope, tenantId: string): boolean => {
  if (source.scope_type === 'tenant') return source.scope_id === tenantId;
  if (target.type === 'tenant') return false;
  if (source.scope_type === 'workspace') return source.scope_id === target.workspaceId;
  return target.type === 'environment' && source.scope_id === target.environmentId;
};

/** Answers "may this user or key do P on R?" from the same assignments the guard uses, and shows why. */
@Injectable()
export class AuthzService {
  constructor(
    private readonly roles: RolesService,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost,
  ) {}

  async check(caller: Principal, dto: AuthzCheckDto): Promise<AuthzDecisionDto> {
    const { allowed, reason } = await this.decide(caller, dto);
    await this.audit.record({ action: 'authz.checked', resourceType: dto.resource.type, resourceId: dto.resource.id, payload: { principal: dto.principal, permission: dto.permission, allowed } });
    return { allowed, reason };
  }

  async explain(caller: Principal, dto: AuthzCheckDto): Promise<AuthzExplanationDto> {
    const explanation = await this.decide(caller, dto);
    await this.audit.record({ action: 'authz.explained', resourceType: dto.resource.type, resourceId: dto.resource.id, payload: { principal: dto.principal, permission: dto.permission, allowed: explanation.allowed } });
    return explanation;
  }

  private async decide(caller: Principal, dto: AuthzCheckDto): Promise<AuthzExplanationDto> {
    if (!isCorePermission(dto.permission)) throw new ValidationFailedError([{ field: 'permission', issue: `unknown permission "${dto.permission}"` }]);
    const tenantId = caller.tenantId;
    // Independent reads, side by side on the pool (the route opens no transaction unless an Idempotency-Key asks for one).
    const [target, { sources, inactive }] = await sideBySide(this.txHost, () => this.roles.resolveTarget(tenantId, dto.resource.type, dto.resource.id), () => this.sourcesOf(tenantId, dto));
    for (const s of sources) s.covers_resource = covers(s, target, tenantId);
    const decisive = sources.find((s) => s.grants_permission && s.covers_resource);
    const allowed = !inactive && !!decisive;
    let reason: string;
    if (inactive) reason = inactive;
    else if (decisive) reason = `granted by ${decisive.role_name} at ${decisive.scope_type} ${decisive.scope_id}${decisive.group_id ? ` through group ${decisive.group_name ?? decisive.group_id} (${decisive.group_id})` : ''}`;
    else reason = `no ${dto.principal.type === 'user' ? 'role assignment' : 'key permission'} grants ${dto.permission} at ${dto.resource.type} ${dto.resource.id}`;
    return { allowed, reason, permission: dto.permission, resource: dto.resource, principal: dto.principal, sources };
  }

  /** Each source's `covers_resource` is set by {@link decide}, which reads the target at the same time. */
  private async sourcesOf(tenantId: TenantId, dto: AuthzCheckDto): Promise<{ sources: AuthzSourceDto[]; inactive?: string }> {
    if (dto.principal.type === 'user') {
      // The grants are read beside the membership check; they are used only when the user is a member.
      const [member, rows] = await sideBySide(this.txHost, () => this.users.assertMember(tenantId, dto.principal.id), () => this.roles.grantSources(tenantId, dto.principal.id));
      const sources = rows.map((r) => ({
        assignment_id: r.assignment_id,
        role_id: r.role_id,
        role_name: r.role_name,
        scope_type: r.scope_type,
        scope_id: r.scope_id,
        group_id: r.group_id,
        group_name: r.group_name,
        grants_permission: r.permissions.includes(dto.permission),
        covers_resource: false,
      }));
      const inactive = member.status !== 'active' || member.member_status !== 'active' ? 'the user is not active in this tenant' : undefined;
      return { sources, inactive };
    }
    const key = await this.apiKeys.getRow(tenantId, dto.principal.id);
    const creatorGrants = await this.roles.grantsFor(tenantId, key.created_by);
    const effective = new Set(this.apiKeys.effectiveGrants(key, creatorGrants).map((g) => g.permission));
    const inactive = key.revoked_at ? 'the API key is revoked' : key.expires_at && key.expires_at.getTime() <= Date.now() ? 'the API key has expired' : undefined;
    return {
      sources: [
        { assignment_id: null, role_id: null, role_name: `api key ${key.name}`, scope_type: 'tenant', scope_id: tenantId, group_id: null, group_name: null, grants_permission: effective.has(dto.permission), covers_resource: false },
      ],
      inactive,
    };
  }
}
