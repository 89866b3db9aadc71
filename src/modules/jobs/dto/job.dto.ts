import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';

export const JOB_STATUSES = ['queued', 'leased', 'succeeded', 'failed', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** How an agent may end a job it holds. */
export const JOB_OUTCOMES = ['succeeded', 'failed'] as const satisfies readonly JobStatus[];
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export class CreateJobDto {
  /** Job type; operators enqueue `discovery.run`. */
  @IsIn(['discovery.run'])
  type: 'discovery.run';

  /** Pin the job to one agent (its workspace and environment apply)… */
  @IsOptional() @IsString() @MaxLength(64)
  agent_id?: string;

  /** …or route it by capability to any agent of `workspace_id` (and `environment_id`) that has it. */
  @IsOptional() @Matches(/^[a-z0-9][a-z0-9._-]{0,62}$/)
  capability?: string;

  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;

  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  payload?: Record<string, unknown>;

  @IsOptional() @IsInt() @Min(1) @Max(10)
  @ApiInteger()
  max_attempts?: number;
}

export class ListJobsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(JOB_STATUSES)
  @ApiEnum(JOB_STATUSES, 'JobStatus')
  status?: JobStatus;

  @IsOptional() @IsString() @MaxLength(64)
  agent_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  request_id?: string;
}

export class JobDto {
  @ApiProperty({ example: 'job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  type: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus')
  status: JobStatus;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  capability: string | null;
  @ApiProperty({ type: String, nullable: true })
  agent_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  @ApiInteger()
  attempt: number;
  @ApiInteger()
  max_attempts: number;
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  result: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  @ApiDateTime({ nullable: true })
  lease_expires_at: string | null;
  @ApiProperty({ type: String, nullable: true })
  correlation_id: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime({ nullable: true })
  completed_at: string | null;
}

/** The most jobs one claim may take, and the most completions one batch may report. */
export const MAX_BATCH = 50;

export class ClaimJobDto {
  /** Long-poll up to this many seconds (0–30) when nothing is queued. */
  @IsOptional() @IsInt() @Min(0) @Max(30)
  @ApiInteger()
  wait_seconds?: number;

  /**
   * Claim up to this many jobs at once (1–50). When given, the answer is always `ClaimedJobsDto` (200, `jobs` empty when
   * none came within the wait); without it, the answer is one `ClaimedJobDto` or 204.
   */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_BATCH)
  @ApiInteger()
  max_jobs?: number;
}

export class ClaimedJobDto {
  id: string;
  type: string;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;
  @ApiInteger()
  attempt: number;
  /** Present this token when completing; a newer claim makes it stale (409 LEASE_LOST). */
  lease_token: string;
  @ApiDateTime()
  lease_expires_at: string;
}

/** The answer to a claim with `max_jobs`: the jobs leased to the agent, oldest first, each with its own lease token. */
export class ClaimedJobsDto {
  @ApiProperty({ type: [ClaimedJobDto], maxItems: MAX_BATCH })
  jobs: ClaimedJobDto[];
}

export class CompleteJobDto {
  @IsString() @MinLength(1) @MaxLength(128)
  lease_token: string;

  @IsIn(JOB_OUTCOMES)
  @ApiEnum(JOB_OUTCOMES, 'JobOutcome')
  status: JobOutcome;

  @IsOptional() @IsString() @MaxLength(4000)
  error?: string;

  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  result?: Record<string, unknown>;
}

/** One job of a batch completion: the single route's body plus the job id. */
export class JobCompletionDto extends CompleteJobDto {
  @IsString() @MinLength(1) @MaxLength(64)
  job_id: string;
}

export class CompleteJobsDto {
  /** 1–50 completions, distinct jobs; each is judged on its own (see `JobCompletionOutcome`). */
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BATCH) @ValidateNested({ each: true }) @Type(() => JobCompletionDto)
  completions: JobCompletionDto[];
}

/**
 * `completed`: recorded now. `already_completed`: this lease already completed the job the same way (a retry; nothing
 * written). `lease_lost`: the lease is no longer current (expired and moved on, another agent's, or completed
 * differently). `not_found`: no such job in the tenant.
 */
export const JOB_COMPLETION_OUTCOMES = ['completed', 'already_completed', 'lease_lost', 'not_found'] as const;
export type JobCompletionOutcome = (typeof JOB_COMPLETION_OUTCOMES)[number];

export class JobCompletionResultDto {
  job_id: string;
  @ApiEnum(JOB_COMPLETION_OUTCOMES, 'JobCompletionOutcome')
  outcome: JobCompletionOutcome;
}

export class CompletedJobsDto {
  /** One result per completion, in the order sent. */
  @ApiProperty({ type: [JobCompletionResultDto], maxItems: MAX_BATCH })
  results: JobCompletionResultDto[];
}
