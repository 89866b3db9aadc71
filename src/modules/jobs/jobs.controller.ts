import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiExtraModels, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { PageOf } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { NoContentResponse } from '../../common/errors/app-error';
import { ClientGone } from '../../common/http/client-gone';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { ClaimedJobDto, ClaimedJobsDto, ClaimJobDto, CompletedJobsDto, CompleteJobDto, CompleteJobsDto, CreateJobDto, JobDto, ListJobsQueryDto } from './dto/job.dto';
import { JobsService } from './jobs.service';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { AuditExempt, Audited } from '../../common/audit/audited.decorator';

@ApiTags('Jobs')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** Enqueue a job (e.g. `discovery.run`) for one agent, or by capability for a workspace's agents. */
  @ApiOperation({ summary: 'Enqueue a job' })
  @Post()
  @Authenticated({ permission: 'job.create' })
  @Audited('job.created')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateJobDto): Promise<JobDto> {
    return this.jobs.create(principal, dto);
  }

  /** List jobs. */
  @ApiOperation({ summary: 'List jobs' })
  @Get()
  @Authenticated({ permission: 'job.read' })
  @ApiOkResponse({ type: PageOf(JobDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListJobsQueryDto) {
    return this.jobs.list(principal, query);
  }

  /** Get a job (never its lease token). */
  @ApiOperation({ summary: 'Get a job' })
  @Get(':id')
  @Authenticated({ permission: 'job.read' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<JobDto> {
    return this.jobs.get(principal, id);
  }
}

@ApiTags('AgentJobs')
@Controller('api/v1/agents/:id/jobs')
export class AgentJobsController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * Claim the next job this agent may run (long-polls up to `wait_seconds`); 204 when none. With `max_jobs`, claims up
   * to that many at once, each with its own lease token, and always answers 200 `ClaimedJobsDto` (`jobs` empty when
   * none came within the wait; it answers as soon as one is there). A plugin job's payload carries the plugin's
   * decrypted settings, so an Idempotency-Key never stores or replays the answer (409 IDEMPOTENCY_REPLAY_UNAVAILABLE
   * naming the job instead).
   */
  @ApiOperation({ summary: 'Claim the next job, or a batch' })
  @Post('claim')
  @HttpCode(200)
  @Authenticated({ principals: ['agent'] })
  @AuditExempt('long poll: each claim attempt is its own transaction that records job.claimed; one transaction across the wait would pin a connection')
  @RevealsSecret()
  @ApiExtraModels(ClaimedJobDto, ClaimedJobsDto)
  @ApiOkResponse({
    description: 'Without `max_jobs`: the claimed job (`ClaimedJobDto`). With `max_jobs`: the claimed jobs (`ClaimedJobsDto`, possibly empty).',
    schema: { oneOf: [{ $ref: getSchemaPath(ClaimedJobDto) }, { $ref: getSchemaPath(ClaimedJobsDto) }] },
  })
  @ApiNoContentResponse({ description: 'No job within the wait (only without `max_jobs`).' })
  async claim(@CurrentPrincipal() principal: Principal, @Body() dto: ClaimJobDto, @ClientGone() clientGone: AbortSignal): Promise<ClaimedJobDto | ClaimedJobsDto> {
    if (dto.max_jobs !== undefined) return this.jobs.claimBatch(principal, dto.max_jobs, dto.wait_seconds ?? 0, clientGone);
    const job = await this.jobs.claim(principal, dto.wait_seconds ?? 0, clientGone);
    if (!job) throw new NoContentResponse();
    return job;
  }

  /**
   * Complete up to 50 jobs at once, each by the single route's rule, in one transaction. Each job gets its outcome
   * (`completed`, `already_completed`, `lease_lost`, `not_found`); the answer is 200 whatever the outcomes.
   */
  @ApiOperation({ summary: 'Complete a batch of jobs' })
  @Post('complete')
  @HttpCode(200)
  @Authenticated({ principals: ['agent'] })
  @AuditExempt('JobsService records job.succeeded or job.failed once per completed job; a repeated completion, a lost lease or an unknown job writes nothing')
  completeBatch(@CurrentPrincipal() principal: Principal, @Body() dto: CompleteJobsDto): Promise<CompletedJobsDto> {
    return this.jobs.completeBatch(principal, dto);
  }

  /** Complete a job with its current lease token (repeat → 204; stale lease → 409 LEASE_LOST). */
  @ApiOperation({ summary: 'Complete a job' })
  @Post(':job_id/complete')
  @HttpCode(204)
  @Authenticated({ principals: ['agent'] })
  @AuditExempt('JobsService records job.succeeded or job.failed once; repeating a completion with the same lease is a no-op that writes nothing')
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such job (NOT_FOUND).' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'The lease is no longer current: the job expired and moved on, or was completed differently (LEASE_LOST).' })
  complete(@CurrentPrincipal() principal: Principal, @Param('job_id') jobId: string, @Body() dto: CompleteJobDto): Promise<void> {
    return this.jobs.complete(principal, jobId, dto);
  }
}
