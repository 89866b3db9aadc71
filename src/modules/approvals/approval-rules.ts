import { TenantId } from '../../common/db/tenant-id';

/** Pure approval rules of SPEC §4: who may decide a stage, and when it passes. */

export interface StageDefinition {
  name: string;
  required_approvals: number;
  approver_role_ids: string[];
  approver_user_ids: string[];
  /** Members of these groups may approve. Absent in snapshots taken before groups existed. */
  approver_group_ids?: string[];
}

export interface Assignment {
  role_id: string;
  scope_type: 'tenant' | 'workspace' | 'environment' | string;
  scope_id: string;
  /** The group the assignment reaches the user through (null or absent: the user's own). */
  group_id?: string | null;
}

export interface RequestScope {
  tenantId: TenantId;
  workspaceId: string;
  environmentId: string | null;
}

export interface Candidate {
  userId: string;
  assignments: Assignment[];
  /** The groups the user is a member of (those of the stage suffice). */
  groupIds: string[];
  /** Whether the user holds `request.approve` at the request's scope. */
  holdsApprove: boolean;
}

export type Ineligibility = 'requester' | 'missing_permission' | 'not_in_stage' | null;

/** Why a stage names a user: listed by id, a role of the stage at the request's scope (own or through a group), a group of the stage. */
export type ApprovalGround = { via: 'user' } | { via: 'role'; role_id: string; group_id: string | null } | { via: 'group'; group_id: string };

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
  return stageGrounds(stage, candidate, scope).length ? null : 'not_in_stage';
}

/** Every way the stage names the candidate (empty: it does not); `request.approve` and the requester rule are apart. */
export function stageGrounds(stage: StageDefinition, candidate: Pick<Candidate, 'userId' | 'assignments' | 'groupIds'>, scope: RequestScope): ApprovalGround[] {
  const grounds: ApprovalGround[] = [];
  if (stage.approver_user_ids.includes(candidate.userId)) grounds.push({ via: 'user' });
  const seen = new Set<string>();
  for (const a of candidate.assignments) {
    const key = `${a.role_id}/${a.group_id ?? ''}`;
    if (!stage.approver_role_ids.includes(a.role_id) || !covers(a, scope) || seen.has(key)) continue;
    seen.add(key);
    grounds.push({ via: 'role', role_id: a.role_id, group_id: a.group_id ?? null });
  }
  const stageGroups = stage.approver_group_ids ?? [];
  for (const groupId of [...new Set(candidate.groupIds)]) if (stageGroups.includes(groupId)) grounds.push({ via: 'group', group_id: groupId });
  return grounds;
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
