import { Injectable } from '@nestjs/common';
import { holds, Principal } from '../../common/auth/principal';
import { GroupsService } from '../groups/groups.service';
import { GrantSource, RolesService } from '../roles/roles.service';
import { ApprovalGround, covers, ineligibility, RequestScope, stageGrounds, StageDefinition } from './approval-rules';

/** What eligibility needs to know about a request. */
export interface DecidableRequest {
  scope: RequestScope;
  requesterId: string;
}

/** What the caller holds for eligibility: role assignments (own and through groups) and group memberships. */
export interface EligibilitySources {
  assignments: GrantSource[];
  groupIds: string[];
}

/** One reason a stage names an eligible approver, for `/requests/:id/approvers`. */
export interface ApproverGround {
  via: ApprovalGround['via'];
  role_id: string | null;
  group_id: string | null;
  group_name: string | null;
}

const NONE: EligibilitySources = { assignments: [], groupIds: [] };

/**
 * The one place that says who may decide a stage (SPEC §4). The rule itself is the pure `ineligibility` of
 * `approval-rules.ts`; this service feeds it the caller's (or the candidates') assignments and groups. SQL never
 * decides eligibility: list queries only narrow rows to stages the caller is named in, holds a role of or is in a
 * group of, and every row is then decided here.
 */
@Injectable()
export class ApprovalEligibilityService {
  constructor(
    private readonly roles: RolesService,
    private readonly groups: GroupsService,
  ) {}

  /** The caller's role assignments and groups (loaded once when many requests are checked). Non-users have none. */
  async sourcesOf(principal: Principal): Promise<EligibilitySources> {
    if (principal.type !== 'user') return NONE;
    // One after the other: inside a transaction they share its connection.
    const assignments = await this.roles.grantSources(principal.tenantId, principal.id);
    const groupIds = (await this.groups.groupsOf(principal.tenantId, principal.id)).map((g) => g.id);
    return { assignments, groupIds };
  }

  /** Why the caller cannot decide this stage now (null = eligible, or the requester: reported as SELF_APPROVAL_FORBIDDEN). */
  async reason(principal: Principal, request: DecidableRequest, stage: StageDefinition): Promise<string | null> {
    if (principal.type !== 'user') return 'only users approve';
    return this.reasonFrom(principal, await this.sourcesOf(principal), request, stage);
  }

  /** The same answer from already-loaded sources. */
  reasonFrom(principal: Principal, sources: EligibilitySources, request: DecidableRequest, stage: StageDefinition): string | null {
    if (principal.type !== 'user') return 'only users approve';
    const holdsApprove = holds(principal, 'request.approve', { workspaceId: request.scope.workspaceId, environmentId: request.scope.environmentId });
    const reason = ineligibility(stage, { userId: principal.id, assignments: sources.assignments, groupIds: sources.groupIds, holdsApprove }, request.scope, request.requesterId);
    if (reason === 'requester') return null;
    if (reason === 'missing_permission') return 'you do not hold request.approve at this request’s scope';
    if (reason === 'not_in_stage') return `stage "${stage.name}" needs one of its roles, users or groups`;
    return null;
  }

  /** True when the caller may decide the stage (never the requester). */
  canDecide(principal: Principal, sources: EligibilitySources, request: DecidableRequest, stage: StageDefinition): boolean {
    return principal.id !== request.requesterId && this.reasonFrom(principal, sources, request, stage) === null;
  }

  /** Active members who could decide the stage now, minus `exclude` (those who already decided), each with why. */
  async eligibleApprovers(request: DecidableRequest, stage: StageDefinition, exclude: Set<string>): Promise<{ user_id: string; email: string; via: ApproverGround[] }[]> {
    const tenantId = request.scope.tenantId;
    const candidates = await this.roles.candidateApprovers(tenantId, { roleIds: stage.approver_role_ids, userIds: stage.approver_user_ids, groupIds: stage.approver_group_ids ?? [] });
    const eligible = candidates
      .filter((c) => !exclude.has(c.userId))
      .filter((c) => {
        const holdsApprove = c.assignments.some((a) => a.permissions.includes('request.approve') && covers(a, request.scope));
        return ineligibility(stage, { userId: c.userId, assignments: c.assignments, groupIds: c.groupIds, holdsApprove }, request.scope, request.requesterId) === null;
      })
      .map((c) => ({ candidate: c, grounds: stageGrounds(stage, c, request.scope) }));
    const groupIds = eligible.flatMap((e) => e.grounds.flatMap((g) => (g.via === 'user' || g.group_id === null ? [] : [g.group_id])));
    const names = await this.groups.describe(tenantId, groupIds);
    return eligible.map(({ candidate, grounds }) => ({
      user_id: candidate.userId,
      email: candidate.email,
      via: grounds.map((g): ApproverGround => {
        if (g.via === 'user') return { via: 'user', role_id: null, group_id: null, group_name: null };
        const groupName = g.group_id === null ? null : (names.get(g.group_id)?.name ?? null);
        return { via: g.via, role_id: g.via === 'role' ? g.role_id : null, group_id: g.group_id, group_name: groupName };
      }),
    }));
  }
}
