import request from 'supertest';
import { GroupsService } from '../../src/modules/groups/groups.service';
import { asTenantId } from '../../src/common/db/tenant-id';
import { assign, auth, createMember, createTenant, roleId, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

// Issue 15 §2 and §3: groups, their members, group role assignments (grants on the next request on every replica,
// revoked the same way), workflow stages naming groups, and the explanations that name the group.

const POLL_DEADLINE_MS = 5000;

/** Polls `probe` until it answers `status`; throws after the deadline. */
async function eventually(probe: () => Promise<number>, status: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    if ((await probe()) === status) return;
    if (Date.now() - started > POLL_DEADLINE_MS) throw new Error(`still not ${status} after ${POLL_DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('groups (e2e, two replicas on one database)', () => {
  let a: TestApp;
  let b: TestApp;
  let owner: Session;
  let tenantId: string;
  let other: { tenantId: string; owner: Session };

  const as = (s: Session) => auth(s.token);
  const post = (s: Session, path: string, body: object, app: TestApp = a) => request(app.http).post(path).set(as(s)).send(body);
  const patch = (s: Session, path: string, body: object) => request(a.http).patch(path).set(as(s)).send(body);
  const get = (s: Session, path: string, app: TestApp = a) => request(app.http).get(path).set(as(s));
  const del = (s: Session, path: string, app: TestApp = a) => request(app.http).delete(path).set(as(s));
  const newGroup = async (name: string, s: Session = owner): Promise<string> => {
    const res = await post(s, '/api/v1/groups', { name });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const actions = async (resourceId: string): Promise<string[]> =>
    (await get(owner, `/api/v1/audit-events?resource_id=${resourceId}&limit=200`)).body.data.map((e: { action: string }) => e.action).sort();

  beforeAll(async () => {
    const env = { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' };
    a = await createTestApp({ env });
    b = await createTestApp({ env, db: a.db });
    const admin = await setupPlatform(a);
    const acme = await createTenant(a, admin, 'acme');
    owner = acme.owner;
    tenantId = acme.tenantId;
    const globex = await createTenant(a, admin, 'globex');
    other = { tenantId: globex.tenantId, owner: globex.owner };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('creates, reads, lists (keyset pages), renames and deletes a group, each change audited', async () => {
    const created = await post(owner, '/api/v1/groups', { name: 'Platform team', description: 'On call' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^grp_[0-9A-Z]{26}$/),
      tenant_id: tenantId,
      name: 'Platform team',
      description: 'On call',
      managed_by: null,
      member_count: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id as string;
    expect((await get(owner, `/api/v1/groups/${id}`)).body).toEqual(created.body);

    const taken = await post(owner, '/api/v1/groups', { name: 'Platform team' });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'CONFLICT', details: [{ field: 'name', issue: 'is taken' }] });

    const more = [await newGroup('crud-2'), await newGroup('crud-3')];
    const first = await get(owner, '/api/v1/groups?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.pagination).toMatchObject({ limit: 2, has_more: true, next_cursor: expect.any(String) });
    const second = await get(owner, `/api/v1/groups?limit=2&cursor=${first.body.pagination.next_cursor}`);
    const seen = [...first.body.data, ...second.body.data].map((g: { id: string }) => g.id);
    expect(seen).toEqual(expect.arrayContaining([id, ...more]));
    expect(new Set(seen).size).toBe(seen.length);
    expect((await get(owner, '/api/v1/groups?managed_by=none&limit=200')).body.data.map((g: { id: string }) => g.id)).toEqual(expect.arrayContaining([id, ...more]));
    expect((await get(owner, '/api/v1/groups?managed_by=idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B')).body.data).toEqual([]);

    const renamed = await patch(owner, `/api/v1/groups/${id}`, { name: 'Platform' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: 'Platform', description: 'On call' });
    expect((await patch(owner, `/api/v1/groups/${id}`, { name: 'crud-2' })).status).toBe(409);

    expect((await del(owner, `/api/v1/groups/${id}`)).status).toBe(204);
    expect((await get(owner, `/api/v1/groups/${id}`)).status).toBe(404);
    expect((await del(owner, `/api/v1/groups/${id}`)).status).toBe(404);
    expect(await actions(id)).toEqual(['group.created', 'group.deleted', 'group.updated']);
  });

  it('refuses invalid bodies with 400 naming the field', async () => {
    const cases: [object, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: ' padded' }, 'name'],
      [{ name: 'two\nlines' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'ok', description: 5 }, 'description'],
      [{ name: 'ok', extra: true }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const res = await post(owner, '/api/v1/groups', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const group = await newGroup('validation');
    const noUser = await post(owner, `/api/v1/groups/${group}/members`, {});
    expect(noUser.status).toBe(400);
    expect(noUser.body.error.details.map((d: { field: string }) => d.field)).toContain('user_id');
    expect((await patch(owner, `/api/v1/groups/${group}`, { name: '' })).status).toBe(400);
  });

  it('adds, lists and removes members; duplicates 409, non-members of the tenant 404', async () => {
    const group = await newGroup('members');
    const ann = await createMember(a, owner, 'ann@acme.example');
    const added = await post(owner, `/api/v1/groups/${group}/members`, { user_id: ann.userId });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ group_id: group, user_id: ann.userId, email: 'ann@acme.example', name: 'ann', added_by: owner.userId, added_at: expect.any(String) });
    expect((await post(owner, `/api/v1/groups/${group}/members`, { user_id: ann.userId })).status).toBe(409);
    expect((await post(owner, `/api/v1/groups/${group}/members`, { user_id: other.owner.userId })).status).toBe(404);
    expect((await post(owner, `/api/v1/groups/${group}/members`, { user_id: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })).status).toBe(404);

    const listed = await get(owner, `/api/v1/groups/${group}/members`);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([added.body]);
    expect((await get(owner, `/api/v1/groups/${group}`)).body.member_count).toBe(1);

    expect((await del(owner, `/api/v1/groups/${group}/members/${ann.userId}`)).status).toBe(204);
    expect((await del(owner, `/api/v1/groups/${group}/members/${ann.userId}`)).status).toBe(404);
    expect((await get(owner, `/api/v1/groups/${group}/members`)).body.data).toEqual([]);
    expect(await actions(group)).toEqual(['group.created', 'group.member_added', 'group.member_removed']);
  });

  it("answers 404 for another tenant's group, member or assignment target", async () => {
    const group = await newGroup('isolated');
    const theirs = other.owner;
    expect((await get(theirs, `/api/v1/groups/${group}`)).status).toBe(404);
    expect((await patch(theirs, `/api/v1/groups/${group}`, { name: 'mine now' })).status).toBe(404);
    expect((await get(theirs, `/api/v1/groups/${group}/members`)).status).toBe(404);
    expect((await post(theirs, `/api/v1/groups/${group}/members`, { user_id: theirs.userId })).status).toBe(404);
    expect((await del(theirs, `/api/v1/groups/${group}/members/${owner.userId}`)).status).toBe(404);
    expect((await del(theirs, `/api/v1/groups/${group}`)).status).toBe(404);
    expect((await get(theirs, '/api/v1/groups?limit=200')).body.data.map((g: { id: string }) => g.id)).not.toContain(group);
    const auditor = await roleId(a, theirs, 'auditor');
    const assigned = await post(theirs, '/api/v1/user-roles', { group_id: group, role_id: auditor, scope_type: 'tenant', scope_id: other.tenantId });
    expect(assigned.status).toBe(404);
    const stage = { name: 's', required_approvals: 1, approver_group_ids: [group] };
    const wf = await post(theirs, '/api/v1/workflows', { name: 'theirs', stages: [stage] });
    expect(wf.status).toBe(404);
    expect(wf.body.error.details).toEqual([{ field: 'stages[0].approver_group_ids', issue: `unknown group ${group}` }]);
    expect((await get(owner, `/api/v1/groups/${group}`)).body.name).toBe('isolated');
  });

  it('needs user.manage at tenant scope to change groups and user.read to read them; joining a group is escalation-checked', async () => {
    const group = await newGroup('guarded');
    const nobody = await createMember(a, owner, 'nobody@acme.example');
    expect((await get(nobody, '/api/v1/groups')).status).toBe(403);
    expect((await get(nobody, `/api/v1/groups/${group}/members`)).status).toBe(403);

    const reader = await createMember(a, owner, 'reader@acme.example');
    await assign(a, owner, reader.userId, 'auditor', 'tenant', tenantId);
    expect((await get(reader, `/api/v1/groups/${group}`)).status).toBe(200);
    const denied = await post(reader, '/api/v1/groups', { name: 'nope' });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await post(reader, `/api/v1/groups/${group}/members`, { user_id: reader.userId })).status).toBe(403);
    expect((await del(reader, `/api/v1/groups/${group}`)).status).toBe(403);

    // user.manage at workspace scope never reaches a tenant-level resource.
    const ws = (await post(owner, '/api/v1/workspaces', { slug: 'guarded-ws', display_name: 'Guarded' })).body.id as string;
    const wsManager = await createMember(a, owner, 'wsmanager@acme.example');
    const managerRole = (await post(owner, '/api/v1/roles', { name: 'user-manager', permissions: ['user.manage', 'user.read'] })).body.id as string;
    expect((await post(owner, '/api/v1/user-roles', { user_id: wsManager.userId, role_id: managerRole, scope_type: 'workspace', scope_id: ws })).status).toBe(201);
    expect((await post(wsManager, '/api/v1/groups', { name: 'ws-scoped' })).status).toBe(403);

    // A tenant-wide user manager manages groups, but cannot join one whose assignments hold what they do not.
    const manager = await createMember(a, owner, 'manager@acme.example');
    expect((await post(owner, '/api/v1/user-roles', { user_id: manager.userId, role_id: managerRole, scope_type: 'tenant', scope_id: tenantId })).status).toBe(201);
    const admins = await newGroup('admins');
    expect((await post(owner, '/api/v1/user-roles', { group_id: admins, role_id: await roleId(a, owner, 'admin'), scope_type: 'tenant', scope_id: tenantId })).status).toBe(201);
    const escalation = await post(manager, `/api/v1/groups/${admins}/members`, { user_id: manager.userId });
    expect(escalation.status).toBe(403);
    expect(escalation.body.error.code).toBe('PRIVILEGE_ESCALATION');
    expect((await get(owner, `/api/v1/groups/${admins}/members`)).body.data).toEqual([]);
    const plain = (await post(manager, '/api/v1/groups', { name: 'manager-made' })).body.id as string;
    expect((await post(manager, `/api/v1/groups/${plain}/members`, { user_id: nobody.userId })).status).toBe(201);
  });

  it('role assignments take exactly one of user_id and group_id (400 naming the field); owner goes to users only', async () => {
    const group = await newGroup('assignee');
    const auditor = await roleId(a, owner, 'auditor');
    const scope = { scope_type: 'tenant', scope_id: tenantId };
    const both = await post(owner, '/api/v1/user-roles', { user_id: owner.userId, group_id: group, role_id: auditor, ...scope });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ field: 'group_id', issue: 'give either user_id or group_id, not both' }]);
    const neither = await post(owner, '/api/v1/user-roles', { role_id: auditor, ...scope });
    expect(neither.status).toBe(400);
    expect(neither.body.error.details).toEqual([{ field: 'user_id', issue: 'user_id or group_id is required' }]);
    const ownerRole = await post(owner, '/api/v1/user-roles', { group_id: group, role_id: await roleId(a, owner, 'owner'), ...scope });
    expect(ownerRole.status).toBe(400);
    expect(ownerRole.body.error.details[0].field).toBe('role_id');
    expect((await post(owner, '/api/v1/user-roles', { group_id: 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', role_id: auditor, ...scope })).status).toBe(404);

    const created = await post(owner, '/api/v1/user-roles', { group_id: group, role_id: auditor, ...scope });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user_id: null, group_id: group, group_name: 'assignee', role_id: auditor, role_name: 'auditor', scope_type: 'tenant' });
    expect((await post(owner, '/api/v1/user-roles', { group_id: group, role_id: auditor, ...scope })).status).toBe(409);
    const listed = await get(owner, `/api/v1/user-roles?group_id=${group}`);
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
  });

  it("a member holds the group's grants at once on both replicas and loses them on the next request after removal (membership, assignment, group)", async () => {
    // Changes go through B and are checked on B at once and on A within the deadline. (Through A they could not be
    // checked at once here: with two apps in one process, the interceptors of the app built last are mounted on the
    // shared controller methods, so A's audited writes run in B's transaction host and B's pool sees the notice.)
    const [writer, replica] = [b, a];
    const member = await createMember(a, owner, 'grantee@acme.example');
    const group = await newGroup('auditors');
    const auditor = await roleId(a, owner, 'auditor');
    const assignment = async () => {
      const res = await post(owner, '/api/v1/user-roles', { group_id: group, role_id: auditor, scope_type: 'tenant', scope_id: tenantId }, writer);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const events = (app: TestApp) => () => get(member, '/api/v1/audit-events?limit=1', app).then((r) => r.status);
    const joinAndCheck = async () => {
      expect((await post(owner, `/api/v1/groups/${group}/members`, { user_id: member.userId }, writer)).status).toBe(201);
      // The writing replica knows at once; the other as soon as the notification arrives.
      expect(await events(writer)()).toBe(200);
      await eventually(events(replica), 200);
    };
    const assertRevoked = async () => {
      // Never served from a stale cache on the replica that made the change, and within the poll deadline on the other.
      expect(await events(writer)()).toBe(403);
      await eventually(events(replica), 403);
    };

    let assignmentId = await assignment();
    // Warm both caches without the grant.
    expect(await events(writer)()).toBe(403);
    expect(await events(replica)()).toBe(403);
    await joinAndCheck();

    // Explanations name the group.
    const roles = await get(owner, `/api/v1/users/${member.userId}/roles`);
    expect(roles.body.data).toEqual([expect.objectContaining({ id: assignmentId, user_id: null, group_id: group, group_name: 'auditors', role_name: 'auditor' })]);
    const explained = await post(owner, '/api/v1/authz/explain', { principal: { type: 'user', id: member.userId }, permission: 'audit.read', resource: { type: 'tenant', id: tenantId } });
    expect(explained.status).toBe(200);
    expect(explained.body.allowed).toBe(true);
    expect(explained.body.reason).toBe(`granted by auditor at tenant ${tenantId} through group auditors (${group})`);
    expect(explained.body.sources).toEqual([expect.objectContaining({ assignment_id: assignmentId, group_id: group, group_name: 'auditors', grants_permission: true, covers_resource: true })]);

    // 1. Membership removed.
    await events(replica)(); // cached on the other replica
    expect((await del(owner, `/api/v1/groups/${group}/members/${member.userId}`, writer)).status).toBe(204);
    await assertRevoked();

    // 2. The group's assignment removed.
    await joinAndCheck();
    expect((await del(owner, `/api/v1/user-roles/${assignmentId}`, writer)).status).toBe(204);
    await assertRevoked();

    // 3. The group deleted (its memberships and assignments go with it, each audited).
    assignmentId = await assignment();
    expect(await events(writer)()).toBe(200);
    await eventually(events(replica), 200);
    expect((await del(owner, `/api/v1/groups/${group}`, writer)).status).toBe(204);
    await assertRevoked();
    expect((await get(owner, `/api/v1/users/${member.userId}/roles`)).body.data).toEqual([]);
    expect(await actions(assignmentId)).toEqual(['role.assigned', 'role.unassigned']);
  });

  it('a two-stage workflow whose stages name groups routes approvals to their members; /approvers and the inbox explain it', async () => {
    const workspace = (await post(owner, '/api/v1/workspaces', { slug: 'pay', display_name: 'Pay' })).body.id as string;
    const prod = (await post(owner, `/api/v1/workspaces/${workspace}/environments`, { name: 'prod', protected: true })).body.id as string;
    const minted = await post(owner, '/api/v1/agents', { name: 'agent-prod', workspace_id: workspace, environment_id: prod, cluster_name: 'c1', capabilities: ['file'] });
    expect(minted.status).toBe(201);
    await request(a.http)
      .post(`/api/v1/agents/${minted.body.agent.id}/secrets/bulk`)
      .set('X-Agent-Secret', minted.body.agent_secret)
      .send({ secrets: [{ cluster_name: 'c1', provider: 'file', ref: 'prod/db' }] })
      .expect(200);
    const secretId = (await get(owner, '/api/v1/secrets?ref_prefix=prod/db')).body.data[0].id as string;

    const requester = await createMember(a, owner, 'requester@acme.example');
    await assign(a, owner, requester.userId, 'requester', 'tenant', tenantId);
    const leads = await newGroup('leads');
    const security = await newGroup('security');
    const lead = await createMember(a, owner, 'lead@acme.example');
    const sec = await createMember(a, owner, 'sec@acme.example');
    const outsider = await createMember(a, owner, 'outsider@acme.example');
    // The groups hold `approver` in the workspace: their members get request.approve there through the group.
    const approver = await roleId(a, owner, 'approver');
    for (const g of [leads, security]) expect((await post(owner, '/api/v1/user-roles', { group_id: g, role_id: approver, scope_type: 'workspace', scope_id: workspace })).status).toBe(201);
    expect((await post(owner, `/api/v1/groups/${leads}/members`, { user_id: lead.userId })).status).toBe(201);
    expect((await post(owner, `/api/v1/groups/${security}/members`, { user_id: sec.userId })).status).toBe(201);
    // The outsider is a tenant admin (request.approve and request.read_all everywhere) but in neither group.
    await assign(a, owner, outsider.userId, 'admin', 'tenant', tenantId);

    // Validation of approver_group_ids.
    const missingGroup = await post(owner, '/api/v1/workflows', { name: 'bad', stages: [{ name: 'a', required_approvals: 1, approver_group_ids: [leads] }, { name: 'b', required_approvals: 1, approver_group_ids: ['grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] }] });
    expect(missingGroup.status).toBe(404);
    expect(missingGroup.body.error.details).toEqual([{ field: 'stages[1].approver_group_ids', issue: 'unknown group grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' }]);
    const badType = await post(owner, '/api/v1/workflows', { name: 'bad', stages: [{ name: 'a', required_approvals: 1, approver_group_ids: 'leads' }] });
    expect(badType.status).toBe(400);
    expect(badType.body.error.details.map((d: { field: string }) => d.field).join(' ')).toContain('approver_group_ids');
    const empty = await post(owner, '/api/v1/workflows', { name: 'bad', stages: [{ name: 'a', required_approvals: 1, approver_group_ids: [] }] });
    expect(empty.status).toBe(400);

    const wf = await post(owner, '/api/v1/workflows', {
      name: 'lead then security',
      stages: [
        { name: 'lead', required_approvals: 1, approver_group_ids: [leads] },
        { name: 'security', required_approvals: 1, approver_group_ids: [security] },
      ],
    });
    expect(wf.status).toBe(201);
    expect(wf.body.stages).toEqual([
      { name: 'lead', required_approvals: 1, approver_role_ids: [], approver_user_ids: [], approver_group_ids: [leads] },
      { name: 'security', required_approvals: 1, approver_role_ids: [], approver_user_ids: [], approver_group_ids: [security] },
    ]);
    // SPEC: a group named by a workflow stage is not deleted under it.
    const inUse = await del(owner, `/api/v1/groups/${security}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({ code: 'IN_USE', details: [{ used_by: ['workflows'] }] });
    expect((await post(owner, '/api/v1/policies', { name: 'reads need teams', priority: 10, effect: 'require_approval', workflow_id: wf.body.id, match: { request_types: ['secret.read'] } })).status).toBe(201);

    const created = await post(requester, '/api/v1/requests/read', { secret_id: secretId, reason: 'debug the payment outage' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending_approval', current_stage: 0 });
    const id = created.body.id as string;
    const inbox = async (s: Session) => (await get(s, '/api/v1/approvals?limit=200')).body.data.map((r: { id: string }) => r.id) as string[];
    const approve = (s: Session) => post(s, `/api/v1/requests/${id}/approve`, {});

    const stage0 = await get(lead, `/api/v1/requests/${id}/approvers`);
    expect(stage0.status).toBe(200);
    expect(stage0.body).toMatchObject({ stage: 0, stage_name: 'lead', required: 1, remaining: 1, ineligible_reason_for_caller: null });
    expect(stage0.body.eligible).toEqual([{ user_id: lead.userId, email: 'lead@acme.example', via: [{ via: 'group', role_id: null, group_id: leads, group_name: 'leads' }] }]);
    expect(await inbox(lead)).toContain(id);
    expect(await inbox(sec)).not.toContain(id);
    expect(await inbox(outsider)).not.toContain(id);

    // Non-members are refused, whatever else they hold; /approvers tells them why.
    const refused = await approve(outsider);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');
    expect((await get(outsider, `/api/v1/requests/${id}/approvers`)).body.ineligible_reason_for_caller).toBe('stage "lead" needs one of its roles, users or groups');
    // A member of the later stage's group is not eligible yet.
    expect((await approve(sec)).body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');

    expect((await approve(lead)).status).toBe(200);
    const stage1 = await get(sec, `/api/v1/requests/${id}/approvers`);
    expect(stage1.body).toMatchObject({ stage: 1, stage_name: 'security', remaining: 1, ineligible_reason_for_caller: null });
    expect(stage1.body.eligible).toEqual([{ user_id: sec.userId, email: 'sec@acme.example', via: [{ via: 'group', role_id: null, group_id: security, group_name: 'security' }] }]);
    expect(await inbox(sec)).toContain(id);
    expect(await inbox(lead)).not.toContain(id);
    expect((await approve(lead)).body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');
    expect((await approve(outsider)).body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');

    // Removing the member from the group takes the approval right away with it (next request): request.approve came
    // through the group too, so the guard refuses before the approval rules. (Written and checked on B, as in the
    // grants test above.)
    expect((await del(owner, `/api/v1/groups/${security}/members/${sec.userId}`, b)).status).toBe(204);
    expect((await post(sec, `/api/v1/requests/${id}/approve`, {}, b)).body.error.code).toBe('PERMISSION_DENIED');
    expect((await get(sec, '/api/v1/approvals?limit=200', b)).body.data.map((r: { id: string }) => r.id)).not.toContain(id);
    expect((await post(owner, `/api/v1/groups/${security}/members`, { user_id: sec.userId }, b)).status).toBe(201);
    const done = await post(sec, `/api/v1/requests/${id}/approve`, {}, b);
    expect(done.status).toBe(200);
    expect(done.body.status).toMatch(/^(approved|executing)$/);
  });

  it('provider-managed groups: members are set by sign-in sync only (API edits 409), each change audited', async () => {
    const group = await newGroup('idp-engineering');
    const local = await newGroup('idp-local');
    const user = await createMember(a, owner, 'synced@acme.example');
    const groups = a.app.get(GroupsService);
    const providerId = 'idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B';
    const tenant = asTenantId(tenantId);
    await groups.setProviderManaged(tenant, providerId, [group]);
    expect((await get(owner, `/api/v1/groups/${group}`)).body.managed_by).toBe(providerId);
    expect((await get(owner, `/api/v1/groups?managed_by=${providerId}`)).body.data.map((g: { id: string }) => g.id)).toEqual([group]);

    const refused = await post(owner, `/api/v1/groups/${group}/members`, { user_id: user.userId });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');

    expect(await groups.syncProviderMemberships(tenant, user.userId, providerId, [group, local])).toEqual({ added: [group], removed: [], ignored: [local] });
    expect((await get(owner, `/api/v1/groups/${group}/members`)).body.data.map((m: { user_id: string }) => m.user_id)).toEqual([user.userId]);
    expect((await del(owner, `/api/v1/groups/${group}/members/${user.userId}`)).status).toBe(409);
    expect(await groups.syncProviderMemberships(tenant, user.userId, providerId, [])).toEqual({ added: [], removed: [group], ignored: [] });
    expect((await get(owner, `/api/v1/groups/${group}/members`)).body.data).toEqual([]);
    expect(await actions(group)).toEqual(['group.created', 'group.member_added', 'group.member_removed', 'group.updated']);

    // Another provider cannot take it over; released groups are local again.
    await expect(groups.setProviderManaged(tenant, 'idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0C', [group])).rejects.toMatchObject({ status: 409 });
    await groups.setProviderManaged(tenant, providerId, []);
    expect((await get(owner, `/api/v1/groups/${group}`)).body.managed_by).toBeNull();
    expect((await post(owner, `/api/v1/groups/${group}/members`, { user_id: user.userId })).status).toBe(201);
  });
});
