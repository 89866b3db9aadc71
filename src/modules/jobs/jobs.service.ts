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
import { WorkspacesService } from '../workspaces/workspaces.service';
import { ClaimedJobDto, CompleteJobDto, CreateJobDto, JobDto, ListJobsQueryDto } from './dto/job.dto';
import { JobRow } from './job.entity';
import { JobNotifier } from './job-notifier';
import { JobNotFoundError, JobRoutingError, LeaseLostError } from './jobs.errors';
import { JobsRepository } from './jobs.repository';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
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
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      if (clientGone?.aborted) return null;
      const job = await this.claimOnce(principal);
      if (job && clientGone?.aborted) {
        // The agent hung up while we claimed: give the job straight back instead of leasing it to nobody.
        await this.repo.unclaim(principal.tenantId, job.id, job.lease_token);
        return null;
      }
      if (job) return job;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      await this.notifier.wait(principal.tenantId, remaining, clientGone);
    }
  }

  @Transactional()
  private async claimOnce(principal: Principal): Promise<ClaimedJobDto | null> {
    const leaseToken = randomBytes(24).toString('base64url');
    const job = await this.repo.claim(
      {
        tenantId: principal.tenantId,
        agentId: principal.id,
        workspaceId: required(principal.workspaceId, `workspace of agent ${principal.id}`),
        environmentId: principal.environmentId ?? null,
        capabilities: principal.agent?.capabilities ?? [],
        hasPublicKey: principal.agent?.hasPublicKey ?? false,
      },
      leaseToken,
      this.config.jobs.leaseSeconds,
    );
    if (!job) return null;
    if (job.owner_type) await this.owners.get(job.owner_type)?.jobStarted?.(job);
    await this.audit.record({ action: 'job.claimed', resourceType: 'job', resourceId: job.id, payload: { type: job.type, attempt: job.attempt } });
    return {
      id: job.id,
      type: job.type,
      request_id: job.owner_type === 'request' ? job.owner_id : null,
      payload: job.plugin_id && this.claimPayload ? { ...job.payload, ...(await this.claimPayload(job)) } : job.payload,
      attempt: job.attempt,
      lease_token: leaseToken,
      lease_expires_at: isoRequired(required(job.lease_expires_at, `lease of the job ${job.id} just claimed`)),
    };
  }

  /** Only the current lease may complete; repeating the same completion is a no-op, a stale lease is 409. */
  @Transactional()
  async complete(principal: Principal, jobId: string, dto: CompleteJobDto): Promise<void> {
    const job = await this.repo.lockForCompletion(principal.tenantId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    const finished = job.status === 'succeeded' || job.status === 'failed';
    if (finished && job.completed_lease_token === dto.lease_token && job.status === dto.status && job.agent_id === principal.id) return;
    if (job.status !== 'leased' || job.lease_token !== dto.lease_token || job.agent_id !== principal.id) throw new LeaseLostError();
    const done = await this.repo.complete(principal.tenantId, jobId, dto.status, dto.result ?? null, dto.error ?? null);
    await this.audit.record({ action: `job.${dto.status}`, resourceType: 'job', resourceId: jobId, outcome: dto.status === 'succeeded' ? 'success' : 'failure', payload: { type: job.type, attempt: job.attempt, error: dto.error } });
    await this.notifyOwner(done);
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

  agentHeartbeat(tenantId: TenantId, agentId: string): Promise<number> {
    return this.repo.extendLeasesOf(tenantId, agentId, this.config.jobs.leaseSeconds);
  }

  private async notifyOwner(job: JobRow): Promise<void> {
    if (job.owner_type) await this.owners.get(job.owner_type)?.jobFinished(job);
  }
}
