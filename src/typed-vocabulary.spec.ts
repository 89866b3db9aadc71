import { AUDIT_ACTIONS, isAuditAction } from './common/audit/audit-actions';
import { AuditInput } from './common/audit/audit.types';
import { Audited } from './common/audit/audited.decorator';
import { Authenticated } from './common/auth/authenticated.decorator';
import { ALL_CORE_PERMISSIONS, isCorePermission } from './common/auth/permission-catalog';
import { Principal, requireDeclaredPermission, requirePermission, requireTenantPermission } from './common/auth/principal';
import { asTenantId } from './common/db/tenant-id';
import { ERROR_CODES } from './common/errors/error-codes';
import { WorkspacesRepository } from './modules/workspaces/workspaces.repository';

/*
 * The vocabulary is checked by the compiler: ts-jest type-checks this file, and an `@ts-expect-error` whose line
 * compiles is itself an error (TS2578), so each misspelling below must keep failing `tsc` for this suite to pass.
 */

const principal: Principal = {
  type: 'user',
  id: 'usr_1',
  tenantId: asTenantId('ten_1'),
  label: 'u',
  platformAdmin: false,
  grants: [{ permission: 'request.execute', scopeType: 'tenant', scopeId: 'ten_1' }],
};

describe('a vocabulary the compiler knows', () => {
  it('a misspelt permission fails tsc in @Authenticated, requirePermission and requireTenantPermission', () => {
    class Routes {
      // @ts-expect-error 'request.execut' is not a CorePermission
      @Authenticated({ permission: 'request.execut' })
      misspelt(): void {}

      @Authenticated({ permission: 'request.execute' })
      spelt(): void {}
    }
    expect(Routes).toBeDefined();
    // @ts-expect-error 'request.execut' is not a CorePermission
    expect(() => requirePermission(principal, 'request.execut')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    // @ts-expect-error 'request.execut' is not a CorePermission
    expect(() => requireTenantPermission(principal, 'request.execut')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    expect(() => requirePermission(principal, 'request.execute')).not.toThrow();
  });

  it('plugin permissions are strings checked at run time, through their own function', () => {
    const pluginKey: string = 'aws.iam.rotate';
    // @ts-expect-error a plugin key (a string from a manifest) is not accepted where a core permission is required
    expect(() => requirePermission(principal, pluginKey)).toThrow();
    expect(() => requireDeclaredPermission(principal, pluginKey)).toThrow(expect.objectContaining({ status: 403, details: [{ permission: 'aws.iam.rotate' }] }));
    expect(() => requireDeclaredPermission({ ...principal, grants: [{ permission: pluginKey, scopeType: 'tenant', scopeId: 'ten_1' }] }, pluginKey)).not.toThrow();
    expect(isCorePermission(pluginKey)).toBe(false);
    expect(isCorePermission('toString')).toBe(false);
    expect(ALL_CORE_PERMISSIONS).toContain('request.execute');
  });

  it('a misspelt audit action fails tsc', () => {
    class Routes {
      // @ts-expect-error 'workspace.creatd' is not an AuditAction
      @Audited('workspace.creatd')
      misspelt(): void {}

      @Audited('workspace.created')
      spelt(): void {}
    }
    expect(Routes).toBeDefined();
    // @ts-expect-error 'workspace.creatd' is not an AuditAction
    const misspelt: AuditInput = { action: 'workspace.creatd', resourceType: 'workspace' };
    const spelt: AuditInput = { action: 'workspace.created', resourceType: 'workspace' };
    expect(isAuditAction(misspelt.action)).toBe(false);
    expect(isAuditAction(spelt.action)).toBe(true);
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('a tenant-scoped repository method refuses a plain string tenant id', () => {
    // Never called: only compiled (the repository needs a database).
    const calls = (repo: WorkspacesRepository, workspaceId: string) => [
      // @ts-expect-error a workspace id (a plain string) is not a TenantId
      repo.find(workspaceId, 'wsp_1'),
      repo.find(principal.tenantId, workspaceId),
    ];
    expect(typeof calls).toBe('function');
  });
});
