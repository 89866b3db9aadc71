import { asTenantId } from '../../common/db/tenant-id';
import { covers, ineligibility, stageGrounds, tallyStage } from './approval-rules';

const scope = { tenantId: asTenantId('ten_1'), workspaceId: 'wsp_1', environmentId: 'env_1' };
const stage = { name: 's', required_approvals: 2, approver_role_ids: ['rol_a'], approver_user_ids: ['usr_listed'] };

describe('approval rules', () => {
  it('scope coverage: tenant ⊃ workspace ⊃ environment', () => {
    expect(covers({ role_id: 'r', scope_type: 'tenant', scope_id: 'ten_1' }, scope)).toBe(true);
    expect(covers({ role_id: 'r', scope_type: 'tenant', scope_id: 'ten_2' }, scope)).toBe(false);
    expect(covers({ role_id: 'r', scope_type: 'workspace', scope_id: 'wsp_1' }, scope)).toBe(true);
    expect(covers({ role_id: 'r', scope_type: 'workspace', scope_id: 'wsp_2' }, scope)).toBe(false);
    expect(covers({ role_id: 'r', scope_type: 'environment', scope_id: 'env_1' }, scope)).toBe(true);
    expect(covers({ role_id: 'r', scope_type: 'environment', scope_id: 'env_1' }, { ...scope, environmentId: null })).toBe(false);
  });

  it('eligibility', () => {
    const withRole = { userId: 'usr_x', assignments: [{ role_id: 'rol_a', scope_type: 'workspace', scope_id: 'wsp_1' }], groupIds: [], holdsApprove: true };
    expect(ineligibility(stage, withRole, scope, 'usr_req')).toBeNull();
    expect(ineligibility(stage, withRole, scope, 'usr_x')).toBe('requester');
    expect(ineligibility(stage, { ...withRole, holdsApprove: false }, scope, 'usr_req')).toBe('missing_permission');
    expect(ineligibility(stage, { ...withRole, assignments: [{ role_id: 'rol_a', scope_type: 'workspace', scope_id: 'wsp_2' }] }, scope, 'usr_req')).toBe('not_in_stage');
    expect(ineligibility(stage, { ...withRole, assignments: [{ role_id: 'rol_b', scope_type: 'tenant', scope_id: 'ten_1' }] }, scope, 'usr_req')).toBe('not_in_stage');
    expect(ineligibility(stage, { userId: 'usr_listed', assignments: [], groupIds: [], holdsApprove: true }, scope, 'usr_req')).toBeNull();
  });

  it('groups: members of a stage group are named; a role through a group counts at the assignment scope', () => {
    const grouped = { ...stage, approver_group_ids: ['grp_team'] };
    const member = { userId: 'usr_m', assignments: [], groupIds: ['grp_other', 'grp_team'], holdsApprove: true };
    expect(ineligibility(grouped, member, scope, 'usr_req')).toBeNull();
    expect(stageGrounds(grouped, member, scope)).toEqual([{ via: 'group', group_id: 'grp_team' }]);
    // Snapshots from before groups have no approver_group_ids: membership alone names no one.
    expect(ineligibility(stage, member, scope, 'usr_req')).toBe('not_in_stage');
    expect(ineligibility(grouped, { ...member, holdsApprove: false }, scope, 'usr_req')).toBe('missing_permission');
    expect(ineligibility(grouped, { ...member, groupIds: ['grp_other'] }, scope, 'usr_req')).toBe('not_in_stage');

    const viaGroupRole = { userId: 'usr_g', assignments: [{ role_id: 'rol_a', scope_type: 'workspace', scope_id: 'wsp_1', group_id: 'grp_ops' }], groupIds: [], holdsApprove: true };
    expect(stageGrounds(stage, viaGroupRole, scope)).toEqual([{ via: 'role', role_id: 'rol_a', group_id: 'grp_ops' }]);
    expect(ineligibility(stage, { ...viaGroupRole, assignments: [{ ...viaGroupRole.assignments[0], scope_id: 'wsp_2' }] }, scope, 'usr_req')).toBe('not_in_stage');

    const everything = { userId: 'usr_listed', assignments: [{ role_id: 'rol_a', scope_type: 'tenant', scope_id: 'ten_1' }], groupIds: ['grp_team'], holdsApprove: true };
    expect(stageGrounds(grouped, everything, scope)).toEqual([{ via: 'user' }, { via: 'role', role_id: 'rol_a', group_id: null }, { via: 'group', group_id: 'grp_team' }]);
  });

  it('tally: distinct approvers, deny overrides', () => {
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }])).toMatchObject({ remaining: 1, passed: false, rejected: false });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'b', decision: 'approved' }])).toMatchObject({ remaining: 0, passed: true });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'a', decision: 'approved' }])).toMatchObject({ remaining: 1, passed: false });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'b', decision: 'approved' }, { approver_id: 'c', decision: 'rejected' }])).toMatchObject({ passed: false, rejected: true });
  });
});
