import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';

/** `online` when a heartbeat arrived within AGENT_OFFLINE_AFTER_SECONDS; derived, not stored. */
export const AGENT_STATUSES = ['online', 'offline', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

const CAPABILITY = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class CreateEnrollmentTokenDto {
  @IsOptional() @IsString() @MaxLength(200)
  @ApiProperty({ example: 'prod-cluster' })
  name?: string;

  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  workspace_id: string;

  @IsOptional() @IsString() @MaxLength(64)
  @ApiProperty({ example: 'env_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  environment_id?: string;

  /** Lifetime in seconds (60 – 30 days), default 3600. */
  @IsOptional() @IsInt() @Min(60) @Max(2592000)
  @ApiInteger({ example: 3600 })
  expires_in_seconds?: number;

  /** How many agents may enroll with it, default 1. */
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  @ApiInteger({ example: 1 })
  max_uses?: number;
}

export class EnrollmentTokenDto {
  @ApiProperty({ example: 'enr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  /** `cse_…`, shown once: `Authorization: Bearer <token>` on `POST /agents/enroll`. */
  token: string;
  @ApiDateTime()
  expires_at: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiInteger()
  max_uses: number;
}

export class EnrollAgentDto {
  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'agent-eu-1' })
  name: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'prod-eu' })
  cluster_name: string;

  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: '0.1.0' })
  version: string;

  @IsArray() @ArrayMaxSize(50) @Matches(CAPABILITY, { each: true, message: 'each capability must match ^[a-z0-9][a-z0-9._-]{0,62}$' })
  @ApiProperty({ type: 'array', items: { type: 'string', pattern: CAPABILITY.source }, example: ['kubernetes-secrets'] })
  capabilities: string[];
}

export class MintAgentDto {
  @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @IsString() @MinLength(1) @MaxLength(64)
  workspace_id: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;

  @IsString() @MinLength(1) @MaxLength(200)
  cluster_name: string;

  @IsArray() @ArrayMaxSize(50) @Matches(CAPABILITY, { each: true, message: 'each capability must match ^[a-z0-9][a-z0-9._-]{0,62}$' })
  @ApiProperty({ type: 'array', items: { type: 'string', pattern: CAPABILITY.source } })
  capabilities: string[];
}

export class AgentDto {
  @ApiProperty({ example: 'agt_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  name: string;
  cluster_name: string;
  @ApiProperty({ type: String, nullable: true })
  version: string | null;
  capabilities: string[];
  /** `online` when a heartbeat arrived within AGENT_OFFLINE_AFTER_SECONDS. */
  @ApiEnum(AGENT_STATUSES, 'AgentStatus')
  status: AgentStatus;
  /** Whether an X25519 public key is registered (needed for patch jobs). */
  has_public_key: boolean;
  @ApiDateTime({ nullable: true })
  last_seen_at: string | null;
  @ApiDateTime({ nullable: true })
  revoked_at: string | null;
  @ApiDateTime()
  created_at: string;
}

export class AgentWithSecretDto {
  agent: AgentDto;
  /** Shown once: send it as `X-Agent-Secret` on `/api/v1/agents/:id/…`. */
  agent_secret: string;
}

export class RegisterPublicKeyDto {
  /** Raw 32-byte X25519 public key, standard base64. */
  @IsString() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64-encoded' })
  public_key: string;
}

export class HeartbeatDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(64)
  version?: string;

  @IsOptional() @IsArray() @ArrayMaxSize(50) @Matches(CAPABILITY, { each: true, message: 'each capability must match ^[a-z0-9][a-z0-9._-]{0,62}$' })
  @ApiProperty({ type: 'array', items: { type: 'string', pattern: CAPABILITY.source } })
  capabilities?: string[];

  /**
   * The jobs this agent is running now. When given, only their leases are extended: a lease the agent no longer knows
   * about (it crashed after the claim, or gave the job up) then runs out and the job is queued again. Without it,
   * every lease the agent holds is extended (agents that predate this field).
   */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @Matches(/^job_[A-Za-z0-9]{1,64}$/, { each: true, message: 'each running job id must be a job id (job_…)' })
  @ApiProperty({ required: false, type: 'array', maxItems: 100, items: { type: 'string', pattern: '^job_[A-Za-z0-9]{1,64}$' }, example: ['job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })
  running_job_ids?: string[];
}

export class DekDto {
  @ApiProperty({ example: 'dek_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  dek_id: string;
  /** A fresh 256-bit data key, base64. Use it once (AES-256-GCM) and forget it. */
  dek: string;
  /** The same key wrapped by the KMS (opaque). */
  wrapped_dek: string;
}
