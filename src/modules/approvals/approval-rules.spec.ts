import { asTenantId } from '../../common/db/tenant-id';
import { covers, ineligibility, tallyStage } from './approval-rules';

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
    const withRole = { userId: 'usr_x', assignments: [{ role_id: 'rol_a', scope_type: 'workspace', scope_id: 'wsp_1' }], holdsApprove: true };
    expect(ineligibility(stage, withRole, scope, 'usr_req')).toBeNull();
    expect(ineligibility(stage, withRole, scope, 'usr_x')).toBe('requester');
    expect(ineligibility(stage, { ...withRole, holdsApprove: false }, scope, 'usr_req')).toBe('missing_permission');
    expect(ineligibility(stage, { ...withRole, assignments: [{ role_id: 'rol_a', scope_type: 'workspace', scope_id: 'wsp_2' }] }, scope, 'usr_req')).toBe('not_in_stage');
    expect(ineligibility(stage, { ...withRole, assignments: [{ role_id: 'rol_b', scope_type: 'tenant', scope_id: 'ten_1' }] }, scope, 'usr_req')).toBe('not_in_stage');
    expect(ineligibility(stage, { userId: 'usr_listed', assignments: [], holdsApprove: true }, scope, 'usr_req')).toBeNull();
  });

  it('tally: distinct approvers, deny overrides', () => {
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }])).toMatchObject({ remaining: 1, passed: false, rejected: false });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'b', decision: 'approved' }])).toMatchObject({ remaining: 0, passed: true });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'a', decision: 'approved' }])).toMatchObject({ remaining: 1, passed: false });
    expect(tallyStage(stage, [{ approver_id: 'a', decision: 'approved' }, { approver_id: 'b', decision: 'approved' }, { approver_id: 'c', decision: 'rejected' }])).toMatchObject({ passed: false, rejected: true });
  });
});
