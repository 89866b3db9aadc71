import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { randomBytes } from 'node:crypto';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { iso, isoRequired } from '../../common/api/time';
import { Principal, requirePermission, workspacesWith } from '../../common/auth/principal';
import { RequestContextStore } from '../../common/context/request-context';
import { newId } from '../../common/crypto/ids';
import { ExclusiveRunner, LOCKS } from '../../common/db/exclusive-runner';

import { AppConfig } from '../../config/app-config';
import { AgentLifecycleListener, AgentsService } from '../agents/agents.service';
import { AuditService } from '../audit/audit.service';
import { AuditInput } from '../../common/audit/audit.types';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { ClaimedJobDto, ClaimedJobsDto, CompletedJobsDto, CompleteJobDto, CompleteJobsDto, CreateJobDto, JobCompletionDto, JobCompletionOutcome, JobDto, ListJobsQueryDto } from './dto/job.dto';
import { decideCompletion } from './job-completion';
import { JobRow } from './job.entity';
import { JobNotifier } from './job-notifier';
import { JobNotFoundError, JobRoutingError, LeaseLostError } from './jobs.errors';
import { JobsRepository } from './jobs.repository';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
import { ValidationFailedError } from '../../common/errors/app-error';
import { scopeNotFound } from '../workspaces/workspaces.errors';

/** What a job owner (e.g. a request) learns when its job ends; called inside the transaction that ends it. */
export interface JobOwnerHandler {
  jobStarted?(job: JobRow): Promise<void>;
  jobFinished(job: JobRow): Promise<void>;
}

/**
 * Adds to a plugin job's payload what must never rest in the job row (the plugin's decrypted settings); called only
 * while building the claim response, in the claiming transaction.
 */
export type ClaimPayloadProvider = (job: JobRow) => Promise<Record<string, unknown>>;

export interface EnqueueJob {
  tenantId: TenantId;
  type: string;
  workspaceId: string;
  environmentId?: string | null;
  capability?: string | null;
  targetAgentId?: string | null;
  requiresPublicKey?: boolean;
  payload: Record<string, unknown>;
  maxAttempts?: number;
  /** The plugin installation the job runs for (its settings join the payload at claim time). */
  pluginId?: string | null;
  owner?: { type: string; id: string };
}

const toJobDto = (j: JobRow): JobDto => ({
  id: j.id,
  tenant_id: j.tenant_id,
  type: j.type,
  status: j.status,
  workspace_id: j.workspace_id,
  environment_id: j.environment_id,
  capability: j.capability,
  agent_id: j.agent_id,
  request_id: j.owner_type === 'request' ? j.owner_id : null,
  attempt: j.attempt,
  max_attempts: j.max_attempts,
  payload: j.payload,
  result: j.result,
  error: j.error,
  lease_expires_at: iso(j.lease_expires_at),
  correlation_id: j.correlation_id,
  created_at: isoRequired(j.created_at),
  completed_at: iso(j.completed_at),
});

const SWEEP_BATCH = 500;

/** The one event a completion writes: `job.succeeded` or `job.failed`. */
const completionEvent = (job: JobRow, dto: CompleteJobDto): AuditInput => ({
  action: `job.${dto.status}`,
  resourceType: 'job',
  resourceId: job.id,
  outcome: dto.status === 'succeeded' ? 'success' : 'failure',
  payload: { type: job.type, attempt: job.attempt, error: dto.error },
});

/**
 * The job queue in PostgreSQL: enqueue (with NOTIFY), claim (SKIP LOCKED, fresh lease token, long-poll), complete
 * (lease token checked), lease recovery and dead-lettering by a sweeper on one replica. Owners (requests) follow their
 * jobs through `JobOwnerHandler`s registered by type; this module knows nothing about them.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, AgentLifecycleListener {
  private readonly owners = new Map<string, JobOwnerHandler>();
  private claimPayload: ClaimPayloadProvider | null = null;

  constructor(
    private readonly repo: JobsRepository,
    private readonly notifier: JobNotifier,
    private readonly agents: AgentsService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly runner: ExclusiveRunner,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService<RequestContextStore>,
  ) {
    this.agents.addLifecycleListener(this);
    workspaces.addScopeDependents({ what: 'jobs', blocksDeletion: (tenantId, scope) => (scope.type === 'environment' ? this.repo.hasPendingInEnvironment(tenantId, scope.id) : Promise.resolve(false)) });
  }

  onApplicationBootstrap(): void {
    this.runner.every('job-lease-sweeper', LOCKS.jobSweeper, this.config.jobs.sweepIntervalMs, async () => {
      await this.sweepExpiredLeases();
    });
  }

  registerOwner(ownerType: string, handler: JobOwnerHandler): void {
    this.owners.set(ownerType, handler);
  }

  /** The plugins module supplies plugin jobs' settings at claim time. */
  registerClaimPayload(provider: ClaimPayloadProvider): void {
    this.claimPayload = provider;
  }

  /** A job of the tenant, for its owner (no access check: the owner decided who may see it). */
  find(tenantId: TenantId, id: string): Promise<JobRow | undefined> {
    return this.repo.find(tenantId, id);
  }

  /** The jobs of a request owner, oldest first (for the request's detail). */
  listForOwner(tenantId: TenantId, ownerType: string, ownerId: string): Promise<JobRow[]> {
    return this.repo.listForOwner(tenantId, ownerType, ownerId);
  }

  /** Adds a job in the caller's transaction; claimers are woken when it commits. */
  async enqueue(input: EnqueueJob): Promise<JobRow> {
    const job = await this.repo.insert(input.tenantId, {
      id: newId('job'),
      workspace_id: input.workspaceId,
      environment_id: input.environmentId ?? null,
      capability: input.capability ?? null,
      target_agent_id: input.targetAgentId ?? null,
      requires_public_key: input.requiresPublicKey ?? false,
      type: input.type,
      payload: input.payload,
      max_attempts: input.maxAttempts ?? this.config.jobs.maxAttempts,
      plugin_id: input.pluginId ?? null,
      owner_type: input.owner?.type ?? null,
      owner_id: input.owner?.id ?? null,
      correlation_id: this.cls.isActive() ? (this.cls.get('correlationId') ?? null) : null,
      created_by: this.cls.isActive() ? (this.cls.get('principal')?.id ?? null) : null,
    });
    await this.repo.notify(input.tenantId);
    return job;
  }

  @Transactional()
  async create(principal: Principal, dto: CreateJobDto): Promise<JobDto> {
    let target: { workspaceId: string; environmentId: string | null; capability: string | null; agentId: string | null };
    if (dto.agent_id) {
      const agent = await this.agents.findAgent(principal.tenantId, dto.agent_id);
      target = { workspaceId: agent.workspace_id, environmentId: agent.environment_id, capability: null, agentId: agent.id };
    } else if (dto.capability && dto.workspace_id) {
      const ref = await this.workspaces.resolveScope(principal.tenantId, dto.environment_id ? 'environment' : 'workspace', dto.environment_id ?? dto.workspace_id);
      if (!ref || ref.workspaceId !== dto.workspace_id) throw scopeNotFound(dto.workspace_id, dto.environment_id);
      target = { workspaceId: ref.workspaceId, environmentId: ref.environmentId, capability: dto.capability, agentId: null };
    } else {
      throw new JobRoutingError();
    }
    requirePermission(principal, 'job.create', { workspaceId: target.workspaceId, environmentId: target.environmentId });
    const job = await this.enqueue({
      tenantId: principal.tenantId,
      type: dto.type,
      workspaceId: target.workspaceId,
      environmentId: target.environmentId,
      capability: target.capability,
      targetAgentId: target.agentId,
      payload: dto.payload ?? {},
      maxAttempts: dto.max_attempts,
    });
    await this.audit.record({ action: 'job.created', resourceType: 'job', resourceId: job.id, payload: { type: job.type, workspace_id: job.workspace_id, capability: job.capability, agent_id: target.agentId } });
    return toJobDto(job);
  }

  async list(principal: Principal, query: ListJobsQueryDto): Promise<Page<JobDto>> {
    const visible = workspacesWith(principal, 'job.read');
    const page = toPageRequest(query);
    const rows = await this.repo.list(principal.tenantId, { status: query.status, agentId: query.agent_id, requestId: query.request_id, workspaceIds: visible === 'all' ? undefined : visible }, page);
    return toPage(rows, page, toJobDto);
  }

  async get(principal: Principal, id: string): Promise<JobDto> {
    const job = await this.repo.find(principal.tenantId, id);
    if (!job) throw new JobNotFoundError(id);
    requirePermission(principal, 'job.read', { workspaceId: job.workspace_id, environmentId: job.environment_id });
    return toJobDto(job);
  }

  /** Claims the next job this agent may run, waiting up to `waitSeconds` for one to be enqueued. */
  async claim(principal: Principal, waitSeconds: number, clientGone?: AbortSignal): Promise<ClaimedJobDto | null> {
    const [job] = await this.claimUpTo(principal, 1, waitSeconds, clientGone);
    return job ?? null;
  }

  /** Claims up to `maxJobs` jobs at once (each with its own lease), waiting up to `waitSeconds` for the first. */
  async claimBatch(principal: Principal, maxJobs: number, waitSeconds: number, clientGone?: AbortSignal): Promise<ClaimedJobsDto> {
    return { jobs: await this.claimUpTo(principal, maxJobs, waitSeconds, clientGone) };
  }

  /** Answers as soon as at least one job is claimed: an agent with free workers is better served now than full later. */
  private async claimUpTo(principal: Principal, maxJobs: number, waitSeconds: number, clientGone?: AbortSignal): Promise<ClaimedJobDto[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      if (clientGone?.aborted) return [];
      const jobs = await this.claimOnce(principal, maxJobs);
      if (jobs.length && clientGone?.aborted) {
        // The agent hung up while we claimed: give the jobs straight back instead of leasing them to nobody.
        for (const job of jobs) await this.repo.unclaim(principal.tenantId, job.id, job.lease_token);
        return [];
      }
      if (jobs.length) return jobs;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      await this.notifier.wait(principal.tenantId, remaining, clientGone);
    }
  }

  /** One transaction: one statement leases up to `maxJobs` jobs; each gets its owner's `jobStarted` and a `job.claimed` event. */
  @Transactional()
  private async claimOnce(principal: Principal, maxJobs: number): Promise<ClaimedJobDto[]> {
    const leaseTokens = Array.from({ length: maxJobs }, () => randomBytes(24).toString('base64url'));
    const jobs = await this.repo.claim(
      {
        tenantId: principal.tenantId,
        agentId: principal.id,
        workspaceId: required(principal.workspaceId, `workspace of agent ${principal.id}`),
        environmentId: principal.environmentId ?? null,
        capabilities: principal.agent?.capabilities ?? [],
        hasPublicKey: principal.agent?.hasPublicKey ?? false,
      },
      leaseTokens,
      this.config.jobs.leaseSeconds,
    );
    const claimed: ClaimedJobDto[] = [];
    // One multi-row insert for the batch's events (50 single-row inserts cost about 3× as much, measured).
    await this.audit.recordMany(jobs.map((job) => ({ action: 'job.claimed', resourceType: 'job', resourceId: job.id, payload: { type: job.type, attempt: job.attempt } })));
    for (const job of jobs) {
      if (job.owner_type) await this.owners.get(job.owner_type)?.jobStarted?.(job);
      claimed.push({
        id: job.id,
        type: job.type,
        request_id: job.owner_type === 'request' ? job.owner_id : null,
        payload: job.plugin_id && this.claimPayload ? { ...job.payload, ...(await this.claimPayload(job)) } : job.payload,
        attempt: job.attempt,
        lease_token: required(job.lease_token, `lease token of the job ${job.id} just claimed`),
        lease_expires_at: isoRequired(required(job.lease_expires_at, `lease of the job ${job.id} just claimed`)),
      });
    }
    return claimed;
  }

  /** Only the current lease may complete; repeating the same completion is a no-op, a stale lease is 409. */
  @Transactional()
  async complete(principal: Principal, jobId: string, dto: CompleteJobDto): Promise<void> {
    const job = await this.repo.lockForCompletion(principal.tenantId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    const decision = decideCompletion(job, principal.id, dto.lease_token, dto.status);
    if (decision === 'already_completed') return;
    if (decision === 'lease_lost') throw new LeaseLostError();
    const [done] = await this.repo.completeMany(principal.tenantId, [{ id: jobId, status: dto.status, result: dto.result ?? null, error: dto.error ?? null }]);
    await this.audit.record(completionEvent(job, dto));
    await this.notifyOwner(required(done, `completed job ${jobId}`));
  }

  /**
   * Completes several jobs in one transaction, each by the single route's rule; a lost lease or an unknown job is that
   * job's outcome, not an error, so the others still complete. One transaction (one commit) because nothing in a
   * completion can fail for one job alone short of a fault, and then the agent's retry of the whole batch is safe:
   * what committed answers `already_completed`.
   */
  @Transactional()
  async completeBatch(principal: Principal, dto: CompleteJobsDto): Promise<CompletedJobsDto> {
    const seen = new Set<string>();
    dto.completions.forEach((c, i) => {
      if (seen.has(c.job_id)) throw new ValidationFailedError([{ field: `completions[${i}].job_id`, issue: 'names a job already in this batch' }]);
      seen.add(c.job_id);
    });
    const locked = new Map((await this.repo.lockManyForCompletion(principal.tenantId, [...seen])).map((j) => [j.id, j]));
    const outcomes = new Map<string, JobCompletionOutcome>();
    const toComplete: JobCompletionDto[] = [];
    for (const c of dto.completions) {
      const job = locked.get(c.job_id);
      const decision = job ? decideCompletion(job, principal.id, c.lease_token, c.status) : 'not_found';
      outcomes.set(c.job_id, decision === 'complete' ? 'completed' : decision);
      if (decision === 'complete') toComplete.push(c);
    }
    const done = new Map(
      (await this.repo.completeMany(principal.tenantId, toComplete.map((c) => ({ id: c.job_id, status: c.status, result: c.result ?? null, error: c.error ?? null })))).map((j) => [j.id, j]),
    );
    await this.audit.recordMany(toComplete.map((c) => completionEvent(required(locked.get(c.job_id), `locked job ${c.job_id}`), c)));
    for (const c of toComplete) await this.notifyOwner(required(done.get(c.job_id), `completed job ${c.job_id}`));
    return { results: dto.completions.map((c) => ({ job_id: c.job_id, outcome: required(outcomes.get(c.job_id), `outcome of ${c.job_id}`) })) };
  }

  /** Recovers expired leases (queued again, or dead after the last attempt). Runs on one replica. */
  async sweepExpiredLeases(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.txHost.withTransaction(async () => {
        const jobs = await this.repo.expireLeases(SWEEP_BATCH);
        const tenants = new Set<TenantId>();
        for (const job of jobs) {
          await this.audit.record({
            action: job.status === 'dead' ? 'job.dead' : 'job.lease_expired',
            resourceType: 'job',
            resourceId: job.id,
            tenantId: job.tenant_id,
            actor: { type: 'system', id: null, label: 'job-sweeper' },
            outcome: job.status === 'dead' ? 'failure' : 'success',
            payload: { attempt: job.attempt, max_attempts: job.max_attempts },
          });
          if (job.status === 'dead') await this.notifyOwner(job);
          else tenants.add(asTenantId(job.tenant_id));
        }
        for (const tenantId of tenants) await this.repo.notify(tenantId);
        return jobs.length;
      });
      total += batch;
      if (batch < SWEEP_BATCH) return total;
    }
  }

  /** The job when `agentId` holds its current lease (404 if unknown, 409 LEASE_LOST otherwise). */
  async leasedBy(tenantId: TenantId, jobId: string, agentId: string): Promise<JobRow> {
    const job = await this.repo.find(tenantId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    if (job.status !== 'leased' || job.agent_id !== agentId) throw new LeaseLostError();
    return job;
  }

  async agentRevoked(tenantId: TenantId, agentId: string): Promise<number> {
    const released = await this.repo.releaseLeasesOf(tenantId, agentId);
    if (released.length) await this.repo.notify(tenantId);
    return released.length;
  }

  agentHeartbeat(tenantId: TenantId, agentId: string, runningJobIds?: string[]): Promise<number> {
    return this.repo.extendLeasesOf(tenantId, agentId, this.config.jobs.leaseSeconds, runningJobIds);
  }

  private async notifyOwner(job: JobRow): Promise<void> {
    if (job.owner_type) await this.owners.get(job.owner_type)?.jobFinished(job);
  }
}
