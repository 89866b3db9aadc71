import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { REQUEST_STATUSES, RequestStatus } from '../request-lifecycle';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';
import { JOB_STATUSES, JobStatus } from '../../jobs/dto/job.dto';
import { PolicyDecisionDto } from '../../policies/dto/policy.dto';
import { WorkflowDto } from '../../workflows/dto/workflow.dto';

/** The workflow as it was when the request was submitted: later edits of the workflow do not change a request in flight. */
export class WorkflowSnapshotDto extends PickType(WorkflowDto, ['id', 'name', 'version', 'stages', 'approval_timeout_seconds', 'auto_execute'] as const) {}

export const APPROVAL_DECISIONS = ['approved', 'rejected'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];
/** A request's job either carries the change out (`execute`) or undoes it (`rollback`). */
export const JOB_PURPOSES = ['execute', 'rollback'] as const;
export type JobPurpose = (typeof JOB_PURPOSES)[number];

export class CreateRequestDto {
  /** `secret.read`, `secret.patch`, `secret.rotate`, or a plugin's type. */
  @Matches(/^[a-z0-9][a-z0-9_.-]{0,99}$/)
  @ApiProperty({ example: 'secret.rotate' })
  type: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Rotate the payments DB password' })
  title: string;

  @IsString() @MinLength(1) @MaxLength(2000)
  @ApiProperty({ example: 'Quarterly rotation (SEC-142).' })
  reason: string;

  /** Built-in secret types: the inventory secret (its workspace and environment apply). */
  @IsOptional() @IsString() @MaxLength(64)
  @ApiProperty({ example: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  secret_id?: string;

  /** Plugin types: validated against the type's JSON Schema. */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  target?: Record<string, unknown>;

  /** `secret.patch` only: the new value. Write-only: envelope-encrypted on arrival, never stored, logged or returned in clear. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(65536)
  @ApiPropertyOptional({ writeOnly: true })
  value?: string;

  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;

  /** Read requests: how long the revealed wrap can be fetched (60 s – 7 days; default 3600). */
  @IsOptional() @IsInt() @Min(60) @Max(604800)
  @ApiInteger()
  access_duration_seconds?: number;

  /** Submit at once (default true); false keeps a draft. */
  @IsOptional() @IsBoolean()
  submit?: boolean;
}

export class CreateReadRequestDto {
  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  secret_id: string;

  @IsString() @MinLength(1) @MaxLength(2000)
  @ApiProperty({ example: 'Debugging the nightly export (INC-2231).' })
  reason: string;

  @IsOptional() @IsInt() @Min(60) @Max(604800)
  @ApiInteger({ example: 3600 })
  access_duration_seconds?: number;

  @IsOptional() @IsBoolean()
  submit?: boolean;
}

export class ApproveDto {
  @IsOptional() @IsString() @MaxLength(2000)
  @ApiProperty({ example: 'Matches the change ticket.' })
  comment?: string;

  /** Optional; when given it must be the caller (approvals are always made as yourself). */
  @IsOptional() @IsString() @MaxLength(64)
  approver_id?: string;
}

export class RejectDto {
  @IsString() @MinLength(1) @MaxLength(2000)
  @ApiProperty({ example: 'No change ticket referenced.' })
  reason: string;
}

export class CancelDto {
  @IsOptional() @IsString() @MaxLength(2000)
  reason?: string;
}

export class RollbackDto {
  /** Why the change is rolled back (required); audited. */
  @IsString() @MinLength(1) @MaxLength(2000)
  reason: string;
}

export class BreakGlassDto {
  /** Why the workflow is bypassed (at least 20 characters); audited. */
  @IsString() @MinLength(20) @MaxLength(2000)
  reason: string;
}

export class ListRequestsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsString() @MaxLength(64)
  requester_id?: string;

  @IsOptional() @IsIn(REQUEST_STATUSES)
  @ApiEnum(REQUEST_STATUSES, 'RequestStatus')
  status?: RequestStatus;

  @IsOptional() @IsString() @MaxLength(100)
  type?: string;

  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;
}

export class InboxQueryDto extends PaginationQueryDto {
  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;
}

export class ApprovalDto {
  id: string;
  @ApiInteger()
  stage: number;
  approver_id: string;
  @ApiEnum(APPROVAL_DECISIONS, 'ApprovalDecision')
  decision: ApprovalDecision;
  @ApiProperty({ type: String, nullable: true })
  comment: string | null;
  @ApiDateTime()
  created_at: string;
}

export class TimelineEntryDto {
  @ApiDateTime()
  at: string;
  action: string;
  @ApiProperty({ type: String, nullable: true })
  actor_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  actor_label: string | null;
}

export class RequestDto {
  @ApiProperty({ example: 'req_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  type: string;
  title: string;
  reason: string;
  @ApiEnum(REQUEST_STATUSES, 'RequestStatus')
  status: RequestStatus;
  requester_id: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  secret_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  target: Record<string, unknown> | null;
  @ApiInteger({ nullable: true })
  access_duration_seconds: number | null;
  /** Index of the stage that is waiting for approvals (null outside `pending_approval`). */
  @ApiInteger({ nullable: true })
  current_stage: number | null;
  /** The policies' decision at submit (null before submit). */
  @ApiProperty({ type: PolicyDecisionDto, nullable: true })
  policy_decision: Record<string, unknown> | null;
  /** The workflow snapshot the request was submitted with, or null when none applies. */
  @ApiProperty({ type: WorkflowSnapshotDto, nullable: true })
  workflow: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true })
  job_id: string | null;
  break_glass: boolean;
  @ApiDateTime({ nullable: true })
  approval_expires_at: string | null;
  @ApiDateTime({ nullable: true })
  submitted_at: string | null;
  @ApiDateTime({ nullable: true })
  completed_at: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class RequestPluginDto {
  /** The installation (`plg_…`). */
  @ApiProperty({ example: 'plg_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  /** The manifest's id, e.g. `aws-iam`. */
  @ApiProperty({ example: 'aws-iam' })
  manifest_id: string;
  enabled: boolean;
}

export class RequestJobDto {
  @ApiProperty({ example: 'job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  type: string;
  /** `execute` (carries the change out) or `rollback` (undoes it). */
  @ApiEnum(JOB_PURPOSES, 'JobPurpose')
  purpose: JobPurpose;
  @ApiEnum(JOB_STATUSES, 'JobStatus')
  status: JobStatus;
  @ApiInteger()
  attempt: number;
  @ApiInteger()
  max_attempts: number;
  @ApiProperty({ type: String, nullable: true })
  agent_id: string | null;
  /** What the agent reported on success. */
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  result: Record<string, unknown> | null;
  /** The agent's error on failure. */
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime({ nullable: true })
  completed_at: string | null;
}

export class RequestDetailDto extends RequestDto {
  /** What the request type does (null when its plugin has been removed). */
  @ApiProperty({ type: String, nullable: true })
  type_description: string | null;
  /** The plugin that adds this request type (null for built-in types). */
  @ApiProperty({ type: RequestPluginDto, nullable: true })
  plugin: RequestPluginDto | null;
  /** Whether the type declares a rollback (`POST /requests/:id/rollback`). */
  rollback_supported: boolean;
  /** The jobs of the request, oldest first: the execution, then any rollback, with attempts, results and errors. */
  @ApiProperty({ type: [RequestJobDto] })
  jobs: RequestJobDto[];
  @ApiProperty({ type: [ApprovalDto] })
  approvals: ApprovalDto[];
  @ApiProperty({ type: [TimelineEntryDto] })
  timeline: TimelineEntryDto[];
}

export const APPROVER_GROUNDS = ['user', 'role', 'group'] as const;

/** Why the stage names an approver: listed by id (`user`), a stage role at the request's scope (`role`, with `group_id` when held through a group), or a stage group (`group`). */
export class ApproverGroundDto {
  @ApiEnum(APPROVER_GROUNDS, 'ApproverGround', { example: 'group' })
  via: (typeof APPROVER_GROUNDS)[number];
  @ApiProperty({ type: String, nullable: true, example: null })
  role_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  group_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Platform team' })
  group_name: string | null;
}

export class EligibleApproverDto {
  user_id: string;
  @ApiProperty({ format: 'email' })
  email: string;
  /** Every way the current stage names this user. */
  @ApiProperty({ type: [ApproverGroundDto] })
  via: ApproverGroundDto[];
}

export class ApproversDto {
  @ApiInteger({ nullable: true })
  stage: number | null;
  @ApiProperty({ type: String, nullable: true })
  stage_name: string | null;
  @ApiInteger()
  required: number;
  approved_by: string[];
  @ApiInteger()
  remaining: number;
  @ApiProperty({ type: [EligibleApproverDto] })
  eligible: EligibleApproverDto[];
  /** Why the caller cannot decide now, or null when they can. */
  @ApiProperty({ type: String, nullable: true })
  ineligible_reason_for_caller: string | null;
}

export class WrapSummaryDto {
  @ApiProperty({ example: 'wrp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime({ nullable: true })
  expires_at: string | null;
  @ApiDateTime({ nullable: true })
  consumed_at: string | null;
}

export class RevealedValueDto {
  /** The secret value (UTF-8), shown this once. */
  value: string;
}

export class CreateWrapDto {
  @IsString() @MinLength(1) @MaxLength(64)
  job_id: string;

  @IsString() @MinLength(1) @MaxLength(64)
  dek_id: string;

  /** AES-256-GCM ciphertext under the DEK, base64. */
  @IsString() @MinLength(1) @MaxLength(200000)
  ciphertext: string;

  /** 12-byte iv, base64. */
  @IsString() @MaxLength(64)
  iv: string;

  /** 16-byte tag, base64. */
  @IsString() @MaxLength(64)
  tag: string;
}

export class CreatedWrapDto {
  wrap_id: string;
}

export class SealedWrapDto {
  /** Raw 32-byte X25519 public key of the ephemeral sender key, base64. */
  ephemeral_public_key: string;
  iv: string;
  tag: string;
  ciphertext: string;
}
