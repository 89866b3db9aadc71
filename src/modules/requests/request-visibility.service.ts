import { Injectable } from '@nestjs/common';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { holds, Principal } from '../../common/auth/principal';
import { DecidableRequest, ApprovalEligibilityService, EligibilitySources } from '../approvals/approval-eligibility.service';
import { InboxQueryDto, ListRequestsQueryDto } from './dto/request.dto';
import { awaitsApproval } from './request-lifecycle';
import { RequestRow } from './request.entity';
import { RequestNotFoundError } from './requests.errors';
import { RequestsRepository, Visibility } from './requests.repository';
import { asTenantId } from '../../common/db/tenant-id';

export const decidable = (r: RequestRow): DecidableRequest => ({ scope: { tenantId: asTenantId(r.tenant_id), workspaceId: r.workspace_id, environmentId: r.environment_id }, requesterId: r.requester_id });

/**
 * Who sees which request: the requester, holders of `request.read_all` at its scope, and whoever may decide its
 * current stage now (eligibility from `ApprovalEligibilityService`). Anything else is 404, never 403.
 */
@Injectable()
export class RequestVisibilityService {
  constructor(
    private readonly repo: RequestsRepository,
    private readonly eligibility: ApprovalEligibilityService,
  ) {}

  async find(principal: Principal, id: string): Promise<RequestRow> {
    const row = await this.repo.find(principal.tenantId, id);
    if (!row || !(await this.isVisible(principal, row))) throw new RequestNotFoundError(id);
    return row;
  }

  /** The row locked for a transition, if the caller may see it. */
  async lock(principal: Principal, id: string): Promise<RequestRow> {
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row || !(await this.isVisible(principal, row))) throw new RequestNotFoundError(id);
    return row;
  }

  async list(principal: Principal, query: ListRequestsQueryDto): Promise<Page<RequestRow>> {
    const page = toPageRequest(query);
    const sources = await this.eligibility.sourcesOf(principal);
    const rows = await this.repo.list(principal.tenantId, this.visibility(principal, sources), { requesterId: query.requester_id, status: query.status, type: query.type, workspaceId: query.workspace_id }, page);
    // SQL narrows; each row is decided here. The cursor stays on the SQL rows, so a page can come back short.
    const result = toPage(rows, page, (r) => r);
    return { data: result.data.filter((row) => this.visibleFrom(principal, sources, row)), pagination: result.pagination };
  }

  /** Pending requests whose current stage the caller may decide now. */
  async inbox(principal: Principal, query: InboxQueryDto): Promise<Page<RequestRow>> {
    const page = toPageRequest(query);
    if (principal.type !== 'user') return toPage([], page, (r: RequestRow) => r);
    const sources = await this.eligibility.sourcesOf(principal);
    const rows = await this.repo.list(principal.tenantId, this.visibility(principal, sources), { workspaceId: query.workspace_id, inbox: true }, page);
    const result = toPage(rows, page, (r) => r);
    return { data: result.data.filter((row) => this.mayDecide(principal, sources, row)), pagination: result.pagination };
  }

  private async isVisible(principal: Principal, row: RequestRow): Promise<boolean> {
    if (this.ownOrReadAll(principal, row)) return true;
    if (!awaitsApproval(row.status)) return false;
    return this.mayDecide(principal, await this.eligibility.sourcesOf(principal), row);
  }

  private visibleFrom(principal: Principal, sources: EligibilitySources, row: RequestRow): boolean {
    return this.ownOrReadAll(principal, row) || (awaitsApproval(row.status) && this.mayDecide(principal, sources, row));
  }

  private ownOrReadAll(principal: Principal, row: RequestRow): boolean {
    if (row.requester_id === (principal.userId ?? principal.id)) return true;
    return holds(principal, 'request.read_all', { workspaceId: row.workspace_id, environmentId: row.environment_id });
  }

  private mayDecide(principal: Principal, sources: EligibilitySources, row: RequestRow): boolean {
    // No one decides a request without a workflow (it never awaited approval).
    if (!row.workflow) return false;
    return this.eligibility.reasonFrom(principal, sources, decidable(row), row.workflow.stages[row.current_stage ?? 0]) === null;
  }

  private visibility(principal: Principal, sources: EligibilitySources): Visibility {
    const readAll = principal.grants.filter((g) => g.permission === 'request.read_all');
    return {
      readAllScopes: readAll.some((g) => g.scopeType === 'tenant') ? ['*'] : readAll.map((g) => g.scopeId),
      userId: principal.userId ?? principal.id,
      roleIds: [...new Set(sources.assignments.map((s) => s.role_id))],
      groupIds: sources.groupIds,
    };
  }
}
