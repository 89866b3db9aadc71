import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiGoneResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Page } from '../../common/api/pagination';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import {
  ApproveDto,
  ApproversDto,
  BreakGlassDto,
  CancelDto,
  CreatedWrapDto,
  CreateReadRequestDto,
  CreateRequestDto,
  CreateWrapDto,
  InboxQueryDto,
  ListRequestsQueryDto,
  RejectDto,
  RequestDetailDto,
  RequestDto,
  RevealedValueDto,
  RollbackDto,
  SealedWrapDto,
  WrapSummaryDto,
} from './dto/request.dto';
import { RequestTransitionsService } from './request-transitions.service';
import { RequestsService } from './requests.service';
import { WrapsService } from './wraps.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Requests')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such request visible to you.' })
@Controller('api/v1/requests')
export class RequestsController {
  constructor(
    private readonly requests: RequestsService,
    private readonly transitions: RequestTransitionsService,
    private readonly wraps: WrapsService,
  ) {}

  /**
   * Create a change request, submitted unless `submit: false`: a built-in type (`secret.read`, `secret.patch` with its
   * write-only `value`, `secret.rotate`) with `secret_id`, or a plugin's type with `workspace_id` (and
   * `environment_id`) and a `target` valid against the type's schema; a plugin type also needs its
   * `required_permission` at that scope.
   */
  @ApiOperation({ summary: 'Create a request' })
  @Post()
  @Authenticated({ permission: 'request.create' })
  @Audited('request.created')
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: 'INVALID_TARGET: the target does not match the type\'s schema (details name each field), the secret is unknown, or the type\'s plugin is disabled.' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateRequestDto): Promise<RequestDetailDto> {
    return this.requests.create(principal, dto);
  }

  /** Create a read request for a secret of the inventory. */
  @ApiOperation({ summary: 'Create a read request' })
  @Post('read')
  @Authenticated({ permission: 'request.create' })
  @Audited('request.created')
  createRead(@CurrentPrincipal() principal: Principal, @Body() dto: CreateReadRequestDto): Promise<RequestDetailDto> {
    return this.requests.createRead(principal, dto);
  }

  /** Requests you made or can approve now (all with `request.read_all`). */
  @ApiOperation({ summary: 'List requests' })
  @Get()
  @Authenticated()
  @ApiOkResponse({ type: PageOf(RequestDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListRequestsQueryDto) {
    return this.requests.list(principal, query);
  }

  /** A request with its approvals, current stage, policy decision, workflow snapshot and timeline. */
  @ApiOperation({ summary: 'Get a request' })
  @Get(':id')
  @Authenticated()
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<RequestDetailDto> {
    return this.requests.get(principal, id);
  }

  /** Submit a draft: the policies decide (deny, auto-approve, or the workflow). */
  @ApiOperation({ summary: 'Submit a draft request' })
  @Post(':id/submit')
  @HttpCode(200)
  @Authenticated()
  @Audited('request.submitted')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  submit(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<RequestDetailDto> {
    return this.requests.submit(principal, id);
  }

  /** Approve the current stage as yourself. */
  @ApiOperation({ summary: 'Approve a request' })
  @Post(':id/approve')
  @HttpCode(200)
  @Authenticated({ permission: 'request.approve' })
  @Audited('request.approval_given')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: 'SELF_APPROVAL_FORBIDDEN, NOT_AN_ELIGIBLE_APPROVER, ALREADY_DECIDED' })
  approve(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: ApproveDto): Promise<RequestDetailDto> {
    return this.transitions.approve(principal, id, dto.comment, dto.approver_id);
  }

  /** Reject (one eligible rejection rejects the request). */
  @ApiOperation({ summary: 'Reject a request' })
  @Post(':id/reject')
  @HttpCode(200)
  @Authenticated({ permission: 'request.approve' })
  @Audited('request.rejection_given')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: 'SELF_APPROVAL_FORBIDDEN, NOT_AN_ELIGIBLE_APPROVER, ALREADY_DECIDED' })
  reject(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RejectDto): Promise<RequestDetailDto> {
    return this.transitions.reject(principal, id, dto.reason);
  }

  /** Cancel (requester, or request.read_all + request.execute). */
  @ApiOperation({ summary: 'Cancel a request' })
  @Post(':id/cancel')
  @HttpCode(200)
  @Authenticated()
  @Audited('request.cancelled')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: CancelDto): Promise<RequestDetailDto> {
    return this.transitions.cancel(principal, id, dto.reason);
  }

  /** Execute an approved request whose workflow has `auto_execute: false`. */
  @ApiOperation({ summary: 'Execute an approved request' })
  @Post(':id/execute')
  @HttpCode(200)
  @Authenticated()
  @Audited('request.execution_started')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  execute(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<RequestDetailDto> {
    return this.transitions.execute(principal, id);
  }

  /**
   * Roll back a completed or failed change whose type declares `rollback` (requester, or `request.execute`): the request
   * is `rolling_back` until the rollback job ends (`rolled_back`, or `failed` with the agent's error).
   */
  @ApiOperation({ summary: 'Roll back a request' })
  @Post(':id/rollback')
  @HttpCode(200)
  @Authenticated()
  @Audited('request.rollback_started')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION: not completed or failed, or the type has no rollback.' })
  rollback(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RollbackDto): Promise<RequestDetailDto> {
    return this.transitions.rollback(principal, id, dto.reason);
  }

  /** What the request waits for: the stage, who approved, who can still approve, and why you can or cannot. */
  @ApiOperation({ summary: 'Who can approve a request' })
  @Get(':id/approvers')
  @Authenticated()
  approvers(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApproversDto> {
    return this.requests.approvers(principal, id);
  }

  /** Approve at once, bypassing the workflow (reason ≥ 20 characters; audited as `request.break_glass`). */
  @ApiOperation({ summary: 'Break glass' })
  @Post(':id/break-glass')
  @HttpCode(200)
  @Authenticated({ permission: 'request.break_glass' })
  @Audited('request.break_glass')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'INVALID_STATE_TRANSITION' })
  breakGlass(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: BreakGlassDto): Promise<RequestDetailDto> {
    return this.transitions.breakGlass(principal, id, dto.reason);
  }

  /** The read request's wraps (no values): id, created, expiry, consumption. Requester only. */
  @ApiOperation({ summary: 'List a read request\'s wraps' })
  @Get(':id/wraps')
  @Authenticated()
  @ApiOkResponse({ type: PageOf(WrapSummaryDto) })
  listWraps(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: PaginationQueryDto): Promise<Page<WrapSummaryDto>> {
    return this.wraps.list(principal, id, query);
  }

  /** Reveal the value once (requester only); afterwards 410 WRAP_CONSUMED, after expiry 410 WRAP_EXPIRED. */
  @ApiOperation({ summary: 'Reveal a wrapped value' })
  @Get(':id/wraps/:wrap_id')
  @Authenticated()
  @ApiGoneResponse({ type: ErrorEnvelope, description: 'WRAP_CONSUMED or WRAP_EXPIRED' })
  reveal(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('wrap_id') wrapId: string): Promise<RevealedValueDto> {
    return this.wraps.reveal(principal, id, wrapId);
  }
}

@ApiTags('Approvals')
@Controller('api/v1/approvals')
export class ApprovalsInboxController {
  constructor(private readonly requests: RequestsService) {}

  /** Your inbox: pending requests whose current stage you may decide. */
  @ApiOperation({ summary: 'Approval inbox', operationId: 'Approvals_inbox' })
  @Get()
  @Authenticated()
  @ApiOkResponse({ type: PageOf(RequestDto) })
  inbox(@CurrentPrincipal() principal: Principal, @Query() query: InboxQueryDto) {
    return this.requests.inbox(principal, query);
  }
}

@ApiTags('AgentWraps')
@Controller('api/v1/agents/:id/wraps')
export class AgentWrapsController {
  constructor(private readonly wraps: WrapsService) {}

  /** Read flow: post the value encrypted under a DEK from `/dek`, for the job you hold. */
  @ApiOperation({ summary: 'Hand over a read value', operationId: 'AgentWraps_createRead' })
  @Post()
  @Authenticated({ principals: ['agent'] })
  @Audited('wrap.created', 'wrap.discarded')
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No job or DEK with this id for this agent.' })
  createReadWrap(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWrapDto): Promise<CreatedWrapDto> {
    return this.wraps.createReadWrap(principal, dto);
  }

  /** Patch flow: the new value sealed to your X25519 key, once (then 410 WRAP_CONSUMED). */
  @ApiOperation({ summary: 'Fetch a patch value', operationId: 'AgentWraps_deliverPatch' })
  @Get(':wrap_id')
  @Authenticated({ principals: ['agent'] })
  @ApiGoneResponse({ type: ErrorEnvelope, description: 'WRAP_CONSUMED' })
  deliverPatchWrap(@CurrentPrincipal() principal: Principal, @Param('wrap_id') wrapId: string): Promise<SealedWrapDto> {
    return this.wraps.deliverPatchWrap(principal, wrapId);
  }
}
