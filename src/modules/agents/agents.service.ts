import { Inject, Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { iso, isoRequired } from '../../common/api/time';
import { InvalidCredentialsError, TokenRevokedError } from '../../common/auth/auth.errors';
import { Principal, requirePermission, workspacesWith } from '../../common/auth/principal';
import { generateDek, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';
import { newOpaqueToken, safeEqual, sha256Hex } from '../../common/crypto/tokens';
import { isValidX25519PublicKey } from '../../common/crypto/x25519-seal';

import { AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { AgentRow } from './agent.entity';
import { AgentNotFoundError, AgentPathMismatchError, DataKeyNotFoundError, InvalidPublicKeyError } from './agents.errors';
import { AgentsRepository } from './agents.repository';
import { AgentDto, AgentWithSecretDto, CreateEnrollmentTokenDto, DekDto, EnrollAgentDto, EnrollmentTokenDto, HeartbeatDto, MintAgentDto } from './dto/agent.dto';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { scopeNotFound } from '../workspaces/workspaces.errors';

const AGENT_SECRET_PREFIX = 'csa';
const ENROLLMENT_PREFIX = 'cse';

/** The KMS context of a data key: a wrapped key only opens as the DEK it was issued as. */
export const dekContext = (tenantId: string, dekId: string) => `dek:${tenantId}:${dekId}`;

/** What other modules do when an agent's standing changes (the jobs module moves its leases). */
export interface AgentLifecycleListener {
  /** Inside the revocation's transaction; returns how many leases it released. */
  agentRevoked(tenantId: string, agentId: string): Promise<number>;
  /** Inside the heartbeat's transaction; returns how many leases it extended (only `runningJobIds`' when given). */
  agentHeartbeat(tenantId: string, agentId: string, runningJobIds?: string[]): Promise<number>;
}

@Injectable()
export class AgentsService {
  private readonly listeners: AgentLifecycleListener[] = [];

  constructor(
    private readonly repo: AgentsRepository,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    @Inject(KMS) private readonly kms: Kms,
  ) {
    // A live agent or a usable enrollment token keeps its environment; a deleted workspace takes its agents with it.
    workspaces.addScopeDependents({ what: 'agents', blocksDeletion: (tenantId, scope) => (scope.type === 'environment' ? this.repo.hasLiveInEnvironment(tenantId, scope.id) : Promise.resolve(false)) });
    workspaces.addScopeDependents({
      what: 'enrollment_tokens',
      blocksDeletion: (tenantId, scope) => (scope.type === 'environment' ? this.repo.hasUsableEnrollmentTokenInEnvironment(tenantId, scope.id) : Promise.resolve(false)),
    });
  }

  addLifecycleListener(listener: AgentLifecycleListener): void {
    this.listeners.push(listener);
  }

  toDto(a: AgentRow): AgentDto {
    const online = !!a.last_seen_at && Date.now() - a.last_seen_at.getTime() <= this.config.agents.offlineAfterSeconds * 1000;
    return {
      id: a.id,
      tenant_id: a.tenant_id,
      workspace_id: a.workspace_id,
      environment_id: a.environment_id,
      name: a.name,
      cluster_name: a.cluster_name,
      version: a.version,
      capabilities: a.capabilities,
      status: a.revoked_at ? 'revoked' : online ? 'online' : 'offline',
      has_public_key: !!a.public_key,
      last_seen_at: iso(a.last_seen_at),
      revoked_at: iso(a.revoked_at),
      created_at: isoRequired(a.created_at),
    };
  }

  @Transactional()
  async createEnrollmentToken(principal: Principal, dto: CreateEnrollmentTokenDto): Promise<EnrollmentTokenDto> {
    const scope = await this.bindingScope(principal, dto.workspace_id, dto.environment_id);
    requirePermission(principal, 'agent.mint', scope);
    const token = newOpaqueToken(ENROLLMENT_PREFIX);
    const row = await this.repo.insertEnrollmentToken(principal.tenantId, {
      id: newId('enrollment'),
      workspace_id: scope.workspaceId,
      environment_id: scope.environmentId,
      name: dto.name ?? null,
      token_hash: sha256Hex(token),
      expires_at: new Date(Date.now() + (dto.expires_in_seconds ?? 3600) * 1000),
      max_uses: dto.max_uses ?? 1,
      created_by: principal.userId ?? null,
    });
    await this.audit.record({ action: 'agent_enrollment_token.created', resourceType: 'agent_enrollment_token', resourceId: row.id, payload: { workspace_id: row.workspace_id, environment_id: row.environment_id, max_uses: row.max_uses, expires_at: row.expires_at } });
    return { id: row.id, token, expires_at: isoRequired(row.expires_at), workspace_id: row.workspace_id, environment_id: row.environment_id, max_uses: row.max_uses };
  }

  /** `Authorization: Bearer cse_…` — each use of the token makes one agent bound to the token's workspace. */
  @Transactional()
  async enroll(authorization: string | undefined, dto: EnrollAgentDto): Promise<AgentWithSecretDto> {
    const token = authorization?.match(/^Bearer\s+(cse_\S+)$/i)?.[1];
    if (!token) throw new InvalidCredentialsError('Enrollment needs Authorization: Bearer cse_<token>.');
    const enrollment = await this.repo.consumeEnrollmentToken(sha256Hex(token));
    if (!enrollment) throw new InvalidCredentialsError('The enrollment token is invalid, expired or used up.');
    const { agent, secret } = await this.createWithSecret(asTenantId(enrollment.tenant_id), {
      workspace_id: enrollment.workspace_id,
      environment_id: enrollment.environment_id,
      name: dto.name,
      cluster_name: dto.cluster_name,
      version: dto.version,
      capabilities: dto.capabilities,
      enrollment_token_id: enrollment.id,
      created_by: enrollment.created_by,
    });
    await this.audit.record({
      action: 'agent.enrolled',
      resourceType: 'agent',
      resourceId: agent.id,
      tenantId: agent.tenant_id,
      actor: { type: 'agent', id: agent.id, label: agent.name },
      payload: { enrollment_token_id: enrollment.id, workspace_id: agent.workspace_id, cluster_name: agent.cluster_name, capabilities: agent.capabilities },
    });
    return { agent: this.toDto(agent), agent_secret: secret };
  }

  @Transactional()
  async mint(principal: Principal, dto: MintAgentDto): Promise<AgentWithSecretDto> {
    const scope = await this.bindingScope(principal, dto.workspace_id, dto.environment_id);
    requirePermission(principal, 'agent.mint', scope);
    const { agent, secret } = await this.createWithSecret(principal.tenantId, {
      workspace_id: scope.workspaceId,
      environment_id: scope.environmentId,
      name: dto.name,
      cluster_name: dto.cluster_name,
      version: null,
      capabilities: dto.capabilities,
      enrollment_token_id: null,
      created_by: principal.userId ?? null,
    });
    await this.audit.record({ action: 'agent.minted', resourceType: 'agent', resourceId: agent.id, payload: { workspace_id: agent.workspace_id, environment_id: agent.environment_id, capabilities: agent.capabilities } });
    return { agent: this.toDto(agent), agent_secret: secret };
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<AgentDto>> {
    const visible = workspacesWith(principal, 'agent.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, visible === 'all' ? undefined : visible, page), page, (a) => this.toDto(a));
  }

  async get(principal: Principal, id: string): Promise<AgentDto> {
    const agent = await this.find(principal.tenantId, id);
    requirePermission(principal, 'agent.read', { workspaceId: agent.workspace_id, environmentId: agent.environment_id });
    return this.toDto(agent);
  }

  /** The secret dies at once (checked on every call); leased jobs go back to the queue for another agent. */
  @Transactional()
  async revoke(principal: Principal, id: string): Promise<AgentDto> {
    const agent = await this.find(principal.tenantId, id);
    requirePermission(principal, 'agent.revoke', { workspaceId: agent.workspace_id, environmentId: agent.environment_id });
    const revoked = await this.repo.revoke(principal.tenantId, id);
    let released = 0;
    for (const l of this.listeners) released += await l.agentRevoked(principal.tenantId, id);
    await this.audit.record({ action: 'agent.revoked', resourceType: 'agent', resourceId: id, payload: { released_jobs: released } });
    if (!revoked) throw new AgentNotFoundError(id); // deleted meanwhile
    return this.toDto(revoked);
  }

  @Transactional()
  async registerPublicKey(principal: Principal, publicKey: string): Promise<void> {
    if (!isValidX25519PublicKey(Buffer.from(publicKey, 'base64'))) throw new InvalidPublicKeyError();
    await this.repo.setPublicKey(principal.tenantId, principal.id, publicKey);
    await this.audit.record({ action: 'agent.public_key_registered', resourceType: 'agent', resourceId: principal.id, payload: { public_key: publicKey } });
  }

  @Transactional()
  async heartbeat(principal: Principal, dto: HeartbeatDto): Promise<void> {
    await this.repo.heartbeat(principal.tenantId, principal.id, dto.version, dto.capabilities);
    let extended = 0;
    for (const l of this.listeners) extended += await l.agentHeartbeat(principal.tenantId, principal.id, dto.running_job_ids);
    await this.audit.record({ action: 'agent.heartbeat_received', resourceType: 'agent', resourceId: principal.id, payload: { version: dto.version, capabilities: dto.capabilities, extended_leases: extended } });
  }

  /** A fresh data key for one wrap: the agent gets it in clear once; only its KMS-wrapped form is kept. */
  @Transactional()
  async issueDek(principal: Principal): Promise<DekDto> {
    const dekId = newId('dek');
    const { dek, wrappedDek } = await generateDek(this.kms, dekContext(principal.tenantId, dekId));
    await this.repo.insertDek(principal.tenantId, dekId, principal.id, wrappedDek);
    await this.audit.record({ action: 'dek.issued', resourceType: 'dek', resourceId: dekId });
    return { dek_id: dekId, dek: toB64(dek), wrapped_dek: wrappedDek };
  }

  /** The wrapped form of a data key this agent was issued (for the read flow's wraps). */
  async issuedDek(tenantId: TenantId, agentId: string, dekId: string): Promise<string> {
    const dek = await this.repo.findDek(tenantId, dekId);
    if (!dek || dek.agent_id !== agentId) throw new DataKeyNotFoundError(dekId);
    return dek.wrapped_dek;
  }

  /** The agent behind `X-Agent-Secret`, which must be the agent named in the path. */
  async authenticate(pathAgentId: string | undefined, secret: string): Promise<Principal> {
    if (!/^csa_[A-Za-z0-9_-]{43}$/.test(secret)) throw new InvalidCredentialsError('The agent secret is invalid.');
    const hash = sha256Hex(secret);
    const agent = await this.repo.findBySecretHash(hash);
    if (!agent || !safeEqual(agent.secret_hash, hash)) throw new InvalidCredentialsError('The agent secret is invalid.');
    if (agent.revoked_at) throw new TokenRevokedError('The agent has been revoked.');
    if (agent.tenant_status !== 'active') throw new TokenRevokedError('The tenant or workspace is not active.');
    if (pathAgentId !== agent.id) throw new AgentPathMismatchError();
    return {
      type: 'agent',
      id: agent.id,
      tenantId: asTenantId(agent.tenant_id),
      label: agent.name,
      platformAdmin: false,
      grants: [],
      workspaceId: agent.workspace_id,
      environmentId: agent.environment_id,
      agent: { capabilities: agent.capabilities, hasPublicKey: !!agent.public_key, publicKey: agent.public_key, clusterName: agent.cluster_name },
    };
  }

  async findAgent(tenantId: TenantId, id: string): Promise<AgentRow> {
    return this.find(tenantId, id);
  }

  /** A new agent and its secret (`csa_…`, returned once; only its SHA-256 is stored). */
  private async createWithSecret(tenantId: TenantId, attrs: Omit<Parameters<AgentsRepository['insert']>[1], 'id' | 'secret_hash'>): Promise<{ agent: AgentRow; secret: string }> {
    const secret = newOpaqueToken(AGENT_SECRET_PREFIX);
    const agent = await this.repo.insert(tenantId, { ...attrs, id: newId('agent'), secret_hash: sha256Hex(secret) });
    return { agent, secret };
  }

  private async find(tenantId: TenantId, id: string): Promise<AgentRow> {
    const agent = await this.repo.find(tenantId, id);
    if (!agent) throw new AgentNotFoundError(id);
    return agent;
  }

  private async bindingScope(principal: Principal, workspaceId: string, environmentId?: string): Promise<{ workspaceId: string; environmentId: string | null }> {
    const ref = environmentId
      ? await this.workspaces.resolveScope(principal.tenantId, 'environment', environmentId)
      : await this.workspaces.resolveScope(principal.tenantId, 'workspace', workspaceId);
    if (!ref) throw scopeNotFound(workspaceId, environmentId);
    if (ref.workspaceId !== workspaceId) throw scopeNotFound(workspaceId, environmentId);
    return ref;
  }
}
