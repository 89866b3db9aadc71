import { TenantId } from '../../common/db/tenant-id';

/** Pure approval rules of SPEC §4: who may decide a stage, and when it passes. */

export interface StageDefinition {
  name: string;
  required_approvals: number;
  approver_role_ids: string[];
  approver_user_ids: string[];
}

export interface Assignment {
  role_id: string;
  scope_type: 'tenant' | 'workspace' | 'environment' | string;
  scope_id: string;
}

export interface RequestScope {
  tenantId: TenantId;
  workspaceId: string;
  environmentId: string | null;
}

export interface Candidate {
  userId: string;
  assignments: Assignment[];
  /** Whether the user holds `request.approve` at the request's scope. */
  holdsApprove: boolean;
}

export type Ineligibility = 'requester' | 'missing_permission' | 'not_in_stage' | null;

/** True when the assignment's scope contains the request (tenant ⊃ workspace ⊃ environment). */
export function covers(a: Assignment, scope: RequestScope): boolean {
  if (a.scope_type === 'tenant') return a.scope_id === scope.tenantId;
  if (a.scope_type === 'workspace') return a.scope_id === scope.workspaceId;
  return a.scope_type === 'environment' && a.scope_id === scope.environmentId;
}

/** Why a user may not decide this stage (null = eligible): never the requester; needs request.approve; needs the stage. */
export function ineligibility(stage: StageDefinition, candidate: Candidate, scope: RequestScope, requesterId: string): Ineligibility {
  if (candidate.userId === requesterId) return 'requester';
  if (!candidate.holdsApprove) return 'missing_permission';
  const listed = stage.approver_user_ids.includes(candidate.userId);
  const byRole = candidate.assignments.some((a) => stage.approver_role_ids.includes(a.role_id) && covers(a, scope));
  return listed || byRole ? null : 'not_in_stage';
}

export interface StageTally {
  approvedBy: string[];
  rejectedBy: string[];
  remaining: number;
  passed: boolean;
  rejected: boolean;
}

/** Distinct approving users count; one rejection rejects (deny overrides). */
export function tallyStage(stage: StageDefinition, decisions: { approver_id: string; decision: 'approved' | 'rejected' }[]): StageTally {
  const approvedBy = [...new Set(decisions.filter((d) => d.decision === 'approved').map((d) => d.approver_id))];
  const rejectedBy = [...new Set(decisions.filter((d) => d.decision === 'rejected').map((d) => d.approver_id))];
  const remaining = Math.max(0, stage.required_approvals - approvedBy.length);
  return { approvedBy, rejectedBy, remaining, passed: remaining === 0 && rejectedBy.length === 0, rejected: rejectedBy.length > 0 };
}
