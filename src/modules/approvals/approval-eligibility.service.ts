import { Injectable } from '@nestjs/common';
import { holds, Principal } from '../../common/auth/principal';
import { GrantSource, RolesService } from '../roles/roles.service';
import { covers, ineligibility, RequestScope, StageDefinition } from './approval-rules';

/** What eligibility needs to know about a request. */
export interface DecidableRequest {
  scope: RequestScope;
  requesterId: string;
}

/**
 * The one place that says who may decide a stage (SPEC §4). The rule itself is the pure `ineligibility` of
 * `approval-rules.ts`; this service feeds it the caller's (or the candidates') assignments. SQL never decides
 * eligibility: list queries only narrow rows to stages the caller is named in or holds a role of, and every row is
 * then decided here.
 */
@Injectable()
export class ApprovalEligibilityService {
  constructor(private readonly roles: RolesService) {}

  /** The caller's role assignments (loaded once when many requests are checked). Non-users have none. */
  sourcesOf(principal: Principal): Promise<GrantSource[]> {
    return principal.type === 'user' ? this.roles.grantSources(principal.tenantId, principal.id) : Promise.resolve([]);
  }

  /** Why the caller cannot decide this stage now (null = eligible, or the requester: reported as SELF_APPROVAL_FORBIDDEN). */
  async reason(principal: Principal, request: DecidableRequest, stage: StageDefinition): Promise<string | null> {
    if (principal.type !== 'user') return 'only users approve';
    return this.reasonFrom(principal, await this.sourcesOf(principal), request, stage);
  }

  /** The same answer from already-loaded assignments. */
  reasonFrom(principal: Principal, sources: GrantSource[], request: DecidableRequest, stage: StageDefinition): string | null {
    if (principal.type !== 'user') return 'only users approve';
    const holdsApprove = holds(principal, 'request.approve', { workspaceId: request.scope.workspaceId, environmentId: request.scope.environmentId });
    const reason = ineligibility(stage, { userId: principal.id, assignments: sources, holdsApprove }, request.scope, request.requesterId);
    if (reason === 'requester') return null;
    if (reason === 'missing_permission') return 'you do not hold request.approve at this request’s scope';
    if (reason === 'not_in_stage') return `stage "${stage.name}" needs one of its roles or users`;
    return null;
  }

  /** True when the caller may decide the stage (never the requester). */
  canDecide(principal: Principal, sources: GrantSource[], request: DecidableRequest, stage: StageDefinition): boolean {
    return principal.id !== request.requesterId && this.reasonFrom(principal, sources, request, stage) === null;
  }

  /** Active members who could decide the stage now, minus `exclude` (those who already decided). */
  async eligibleApprovers(request: DecidableRequest, stage: StageDefinition, exclude: Set<string>): Promise<{ user_id: string; email: string }[]> {
    const candidates = await this.roles.candidateApprovers(request.scope.tenantId, stage.approver_role_ids, stage.approver_user_ids);
    return candidates
      .filter((c) => !exclude.has(c.userId))
      .filter((c) => {
        const holdsApprove = c.assignments.some((a) => a.permissions.includes('request.approve') && covers(a, request.scope));
        return ineligibility(stage, { userId: c.userId, assignments: c.assignments, holdsApprove }, request.scope, request.requesterId) === null;
      })
      .map((c) => ({ user_id: c.userId, email: c.email }));
  }
}
