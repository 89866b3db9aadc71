import { holds, holdsTenantWide, Principal } from '../../src/common/auth/principal';
import { RolesService } from '../../src/modules/roles/roles.service';
import { UsersService } from '../../src/modules/users/users.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { auditOf, Member, MediumFixtures } from '../helpers/medium-fixtures';

/**
 * Roles and assignments against a real database: nobody grants what they do not hold at the target scope (custom roles
 * and assignments alike), built-in roles never change, assignment rights follow the scope, the last active owner stays,
 * and another tenant's roles, users and scopes are not there (404).
 */
describe('roles and escalation (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let roles: RolesService;
  let owner: Member;
  let tenantId: string;
  let pay: string;
  let prod: string;
  let ops: string;
  let wsAdmin: Member; // admin at workspace pay only
  let editor: Member; // custom "role-editor" at tenant scope: role.edit, role.read, user_role.edit, request.create, workspace.read
  let admin: Member; // built-in admin tenant-wide: everything but tenant.manage
  let mallory: Member; // admin of another tenant
  let otherOwner: Member;
  let otherTenantId: string;
  let otherWorkspace: string;

  const as = <T>(who: Member | Principal, fn: (p: Principal) => Promise<T>) => {
    const p = 'principal' in who ? who.principal : who;
    return m.as(p, () => fn(p));
  };
  const user = async (email: string, by: Member = owner) => (await f.member(by, email)).userId;
  const assign = async (by: Member, userId: string, role: string, scopeType: 'tenant' | 'workspace' | 'environment', scopeId: string) =>
    as(by, async (p) => roles.assign(p, { user_id: userId, role_id: await f.roleId(owner, role), scope_type: scopeType, scope_id: scopeId }));
  const roleCount = async () => (await m.sql.query(`SELECT count(*)::int AS n FROM roles WHERE tenant_id = $1`, [tenantId])).rows[0].n as number;
  const assignmentsOf = async (userId: string) =>
    (await m.sql.query(`SELECT r.name, ur.scope_type, ur.scope_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1 ORDER BY ur.id`, [userId])).rows as {
      name: string;
      scope_type: string;
      scope_id: string;
    }[];

  beforeAll(async () => {
    m = await createMediumApp();
    f = new MediumFixtures(m);
    roles = m.get(RolesService);
    ({ owner, tenantId } = await f.tenant('acme'));
    pay = await f.workspace(owner, 'pay');
    prod = await f.environment(owner, pay, 'prod', true);
    ops = await f.workspace(owner, 'ops');
    await as(owner, (p) =>
      roles.create(p, { name: 'role-editor', description: 'edits roles', permissions: ['role.edit', 'role.read', 'user_role.edit', 'request.create', 'workspace.read'] }),
    );
    wsAdmin = await f.member(owner, 'ws-admin@acme.example', [['admin', 'workspace', pay]]);
    editor = await f.member(owner, 'editor@acme.example', [['role-editor', 'tenant', tenantId]]);
    admin = await f.member(owner, 'admin@acme.example', [['admin', 'tenant', tenantId]]);
    const other = await f.tenant('other');
    otherOwner = other.owner;
    otherTenantId = other.tenantId;
    otherWorkspace = await f.workspace(otherOwner, 'pay');
    mallory = await f.member(otherOwner, 'mallory@other.example', [['admin', 'tenant', other.tenantId]]);
  });
  afterAll(() => m?.close());

  it('cannot create a role with a permission one lacks; refusals store nothing', async () => {
    const before = await roleCount();
    const refused = await expectAppError(as(editor, (p) => roles.create(p, { name: 'approvers-2', permissions: ['request.approve', 'request.create'] })), 403, 'PRIVILEGE_ESCALATION');
    expect(refused.details).toEqual([{ permissions: ['request.approve'], scope: 'tenant scope' }]);
    // A workspace admin holds role.edit, but not tenant-wide: roles are tenant-level.
    await expectAppError(as(wsAdmin, (p) => roles.create(p, { name: 'ws-role', permissions: ['workspace.read'] })), 403, 'PERMISSION_DENIED');
    await expectAppError(as(editor, (p) => roles.create(p, { name: 'typo', permissions: ['request.creat'] })), 400, 'VALIDATION_FAILED');
    expect(await roleCount()).toBe(before);

    const subset = await as(editor, (p) => roles.create(p, { name: 'requesters-2', permissions: ['workspace.read', 'request.create'] }));
    expect(subset).toMatchObject({ built_in: false, permissions: ['request.create', 'workspace.read'], tenant_id: tenantId });
    expect(await roleCount()).toBe(before + 1);
    expect(await auditOf(m, subset.id)).toEqual([expect.objectContaining({ action: 'role.created', actor_id: editor.userId, payload: expect.objectContaining({ permissions: ['request.create', 'workspace.read'] }) })]);
  });

  it('cannot widen a role with a permission one lacks; what the role already had may stay', async () => {
    const jobs = await as(owner, (p) => roles.create(p, { name: 'job-readers', permissions: ['job.read'] }));
    await expectAppError(as(editor, (p) => roles.replacePermissions(p, jobs.id, { permissions: ['job.read', 'job.create'] })), 403, 'PRIVILEGE_ESCALATION');
    // job.read is not the editor's, but it was already there: only added permissions are checked.
    const widened = await as(editor, (p) => roles.replacePermissions(p, jobs.id, { permissions: ['job.read', 'request.create'] }));
    expect(widened.permissions).toEqual(['job.read', 'request.create']);
    const narrowed = await as(editor, (p) => roles.replacePermissions(p, jobs.id, { permissions: ['request.create'] }));
    expect(narrowed.permissions).toEqual(['request.create']);
    expect((await auditOf(m, jobs.id)).map((e) => e.action)).toEqual(['role.created', 'role.permissions_replaced', 'role.permissions_replaced']);
  });

  it('built-in roles are immutable, even for the owner', async () => {
    const approver = await f.roleId(owner, 'approver');
    const ownerRole = await f.roleId(owner, 'owner');
    const before = await as(owner, (p) => roles.get(p, approver));
    await expectAppError(as(owner, (p) => roles.replacePermissions(p, approver, { permissions: ['request.approve'] })), 409, 'CONFLICT');
    await expectAppError(as(owner, (p) => roles.remove(p, approver)), 409, 'CONFLICT');
    await expectAppError(as(owner, (p) => roles.remove(p, ownerRole)), 409, 'CONFLICT');
    expect(await as(owner, (p) => roles.get(p, approver))).toEqual(before);
    expect(await auditOf(m, approver)).toEqual([]);
  });

  it('assignments follow the scope: a workspace admin assigns inside their workspace only, and only what they hold there', async () => {
    const u = await user('u1@acme.example');
    const inPay = await assign(wsAdmin, u, 'approver', 'workspace', pay);
    expect(inPay).toMatchObject({ user_id: u, role_name: 'approver', scope_type: 'workspace', scope_id: pay, created_by: wsAdmin.userId });
    await assign(wsAdmin, u, 'requester', 'environment', prod); // an environment of their workspace
    await expectAppError(assign(wsAdmin, u, 'approver', 'workspace', ops), 403, 'PERMISSION_DENIED');
    await expectAppError(assign(wsAdmin, u, 'approver', 'tenant', tenantId), 403, 'PERMISSION_DENIED');
    // owner carries tenant.manage, which the workspace admin does not hold at pay.
    const escalation = await expectAppError(assign(wsAdmin, u, 'owner', 'workspace', pay), 403, 'PRIVILEGE_ESCALATION');
    expect(escalation.details).toEqual([{ permissions: ['tenant.manage'], scope: 'workspace scope' }]);
    await expectAppError(assign(wsAdmin, u, 'approver', 'workspace', pay), 409, 'CONFLICT'); // already there
    expect(await assignmentsOf(u)).toEqual([
      { name: 'approver', scope_type: 'workspace', scope_id: pay },
      { name: 'requester', scope_type: 'environment', scope_id: prod },
    ]);
    expect((await auditOf(m, inPay.id)).map((e) => [e.action, e.actor_id])).toEqual([['role.assigned', wsAdmin.userId]]);

    // The grants are what the session sees on its next call: approve in pay (and its environments), nowhere else.
    const member = await f.login('u1@acme.example', 'member password 123', tenantId);
    expect(holds(member.principal, 'request.approve', { workspaceId: pay, environmentId: prod })).toBe(true);
    expect(holds(member.principal, 'request.approve', { workspaceId: ops })).toBe(false);
    expect(holdsTenantWide(member.principal, 'request.approve')).toBe(false);

    // An assignment made above their scope is not theirs to remove.
    const tenantWide = await assign(owner, u, 'auditor', 'tenant', tenantId);
    await expectAppError(as(wsAdmin, (p) => roles.removeAssignment(p, tenantWide.id)), 403, 'PERMISSION_DENIED');
    await as(wsAdmin, (p) => roles.removeAssignment(p, inPay.id));
    const after = await f.refresh(member);
    expect(holds(after.principal, 'request.approve', { workspaceId: pay })).toBe(false);
    expect((await auditOf(m, inPay.id)).map((e) => e.action)).toEqual(['role.assigned', 'role.unassigned']);
  });

  it('a role in use cannot be deleted; an unused custom role can', async () => {
    const temp = await as(owner, (p) => roles.create(p, { name: 'temp', permissions: ['job.read'] }));
    const u = await user('u2@acme.example');
    const a = await as(owner, (p) => roles.assign(p, { user_id: u, role_id: temp.id, scope_type: 'workspace', scope_id: ops }));
    await expectAppError(as(owner, (p) => roles.remove(p, temp.id)), 409, 'IN_USE');
    await as(owner, (p) => roles.removeAssignment(p, a.id));
    await as(owner, (p) => roles.remove(p, temp.id));
    await expectAppError(as(owner, (p) => roles.get(p, temp.id)), 404, 'NOT_FOUND');
    expect((await auditOf(m, temp.id)).map((e) => e.action)).toEqual(['role.created', 'role.deleted']);
  });

  it('LAST_OWNER: the last active owner can be neither unassigned nor disabled; only owners change owners', async () => {
    const ownerAssignment = (await as(owner, (p) => roles.listAssignments(p, { limit: 200, user_id: owner.userId }))).data.find((a) => a.role_name === 'owner')!;
    await expectAppError(as(owner, (p) => roles.removeAssignment(p, ownerAssignment.id)), 409, 'LAST_OWNER');
    await expectAppError(as(owner, (p) => m.get(UsersService).update(p, owner.userId, { status: 'disabled' })), 409, 'LAST_OWNER');
    // An admin holds user_role.edit tenant-wide but is not an owner: owners are not theirs to change.
    await expectAppError(as(admin, (p) => roles.removeAssignment(p, ownerAssignment.id)), 403, 'PERMISSION_DENIED');
    // Nor can an admin make an owner (tenant.manage is not theirs to grant).
    const co = await user('co-owner@acme.example');
    await expectAppError(assign(admin, co, 'owner', 'tenant', tenantId), 403, 'PRIVILEGE_ESCALATION');

    // A second owner: either may step down while the other stays…
    const coOwner = await assign(owner, co, 'owner', 'tenant', tenantId);
    await as(owner, (p) => roles.removeAssignment(p, coOwner.id));
    const again = await assign(owner, co, 'owner', 'tenant', tenantId);
    // …but a disabled owner does not count: with the co-owner disabled, the owner is the last active one again.
    await as(owner, (p) => m.get(UsersService).update(p, co, { status: 'disabled' }));
    await expectAppError(as(owner, (p) => roles.removeAssignment(p, ownerAssignment.id)), 409, 'LAST_OWNER');
    expect((await assignmentsOf(owner.userId)).map((a) => a.name)).toContain('owner');
    expect((await assignmentsOf(co)).map((a) => a.name)).toEqual(['owner']);
    expect((await auditOf(m, again.id)).map((e) => e.action)).toEqual(['role.assigned']);
  });

  it('cannot read or use another tenant’s roles, users, scopes or assignments (404, never 403)', async () => {
    const approver = await f.roleId(owner, 'approver');
    const otherUser = (await f.member(otherOwner, 'someone@other.example')).userId;
    const u = await user('u3@acme.example');
    const mine = await assign(owner, u, 'auditor', 'workspace', pay);
    const otherApprover = await f.roleId(otherOwner, 'approver');

    await expectAppError(as(mallory, (p) => roles.get(p, approver)), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => roles.replacePermissions(p, approver, { permissions: [] })), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => roles.remove(p, approver)), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => roles.removeAssignment(p, mine.id)), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => roles.assignmentsOfUser(p, u, { limit: 10 })), 404, 'NOT_FOUND');
    const listed = await as(mallory, (p) => roles.list(p, { limit: 200 }));
    expect(listed.data.map((r) => r.id)).not.toContain(approver);
    expect(listed.data.every((r) => r.tenant_id === otherTenantId)).toBe(true);
    expect((await as(mallory, (p) => roles.listAssignments(p, { limit: 200 }))).data.map((a) => a.id)).not.toContain(mine.id);

    // From this tenant: another tenant's user, role, workspace or tenant id is unknown.
    const by = (user_id: string, role_id: string, scope_type: 'tenant' | 'workspace', scope_id: string) => as(owner, (p) => roles.assign(p, { user_id, role_id, scope_type, scope_id }));
    await expectAppError(by(otherUser, approver, 'workspace', pay), 404, 'NOT_FOUND');
    await expectAppError(by(u, otherApprover, 'workspace', pay), 404, 'NOT_FOUND');
    await expectAppError(by(u, approver, 'workspace', otherWorkspace), 404, 'NOT_FOUND');
    await expectAppError(by(u, approver, 'tenant', otherTenantId), 404, 'NOT_FOUND');
    expect(await assignmentsOf(u)).toEqual([{ name: 'auditor', scope_type: 'workspace', scope_id: pay }]);
    expect(await assignmentsOf(otherUser)).toEqual([]);
  });
});
