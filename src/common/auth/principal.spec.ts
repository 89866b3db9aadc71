import { notHeldAt } from './escalation';
import { holds, holdsTenantWide, Principal, requireTenantPermission, workspacesWith } from './principal';
import { asTenantId } from '../db/tenant-id';

const principal = (grants: Principal['grants'], platformAdmin = false): Principal => ({
  type: 'user',
  id: 'usr_1',
  tenantId: asTenantId('ten_1'),
  label: 'u',
  platformAdmin,
  grants,
});

describe('permission scopes', () => {
  const p = principal([
    { permission: 'workspace.read', scopeType: 'tenant', scopeId: 'ten_1' },
    { permission: 'workspace.manage', scopeType: 'workspace', scopeId: 'wsp_a' },
    { permission: 'request.approve', scopeType: 'environment', scopeId: 'env_prod' },
  ]);

  it('a tenant grant holds everywhere below', () => {
    expect(holds(p, 'workspace.read', { workspaceId: 'wsp_z', environmentId: 'env_z' })).toBe(true);
    expect(holdsTenantWide(p, 'workspace.read')).toBe(true);
  });

  it('a workspace grant holds in that workspace and its environments only', () => {
    expect(holds(p, 'workspace.manage', { workspaceId: 'wsp_a' })).toBe(true);
    expect(holds(p, 'workspace.manage', { workspaceId: 'wsp_a', environmentId: 'env_1' })).toBe(true);
    expect(holds(p, 'workspace.manage', { workspaceId: 'wsp_b' })).toBe(false);
    expect(holdsTenantWide(p, 'workspace.manage')).toBe(false);
  });

  it('an environment grant holds in that environment only', () => {
    expect(holds(p, 'request.approve', { workspaceId: 'wsp_a', environmentId: 'env_prod' })).toBe(true);
    expect(holds(p, 'request.approve', { workspaceId: 'wsp_a' })).toBe(false);
  });

  it('without a scope, any grant counts (the guard’s coarse check)', () => {
    expect(holds(p, 'request.approve')).toBe(true);
    expect(holds(p, 'audit.read')).toBe(false);
  });

  it('platform admins hold tenant.manage', () => {
    expect(holds(principal([], true), 'tenant.manage')).toBe(true);
    expect(holds(principal([]), 'tenant.manage')).toBe(false);
  });

  it('lists the workspaces where a permission holds', () => {
    expect(workspacesWith(p, 'workspace.read')).toBe('all');
    expect(workspacesWith(p, 'workspace.manage')).toEqual(['wsp_a']);
  });

  it('anti-escalation names what the caller lacks at the target scope', () => {
    expect(notHeldAt(p, ['workspace.read', 'workspace.manage'], { type: 'tenant' })).toEqual(['workspace.manage']);
    expect(notHeldAt(p, ['workspace.read', 'workspace.manage'], { type: 'workspace', workspaceId: 'wsp_a' })).toEqual([]);
    expect(notHeldAt(p, ['workspace.manage'], { type: 'environment', workspaceId: 'wsp_b', environmentId: 'env_x' })).toEqual(['workspace.manage']);
  });

  it('tenant-level resources need the permission at tenant scope: a workspace or environment grant is refused', () => {
    expect(() => requireTenantPermission(p, 'workspace.read')).not.toThrow();
    for (const permission of ['workspace.manage', 'request.approve', 'audit.read'] as const) {
      expect(() => requireTenantPermission(p, permission)).toThrow(expect.objectContaining({ status: 403, code: 'PERMISSION_DENIED', details: [{ permission, scope: 'tenant' }] }));
    }
  });
});
