import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';

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
  max_attempts?: number;
}

export class ListJobsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(['queued', 'leased', 'succeeded', 'failed', 'dead'])
  status?: 'queued' | 'leased' | 'succeeded' | 'failed' | 'dead';

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
  @ApiProperty({ enum: ['queued', 'leased', 'succeeded', 'failed', 'dead'] })
  status: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  capability: string | null;
  @ApiProperty({ type: String, nullable: true })
  agent_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  attempt: number;
  max_attempts: number;
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  result: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  @ApiProperty({ type: String, nullable: true })
  lease_expires_at: string | null;
  @ApiProperty({ type: String, nullable: true })
  correlation_id: string | null;
  created_at: string;
  @ApiProperty({ type: String, nullable: true })
  completed_at: string | null;
}

export class ClaimJobDto {
  /** Long-poll up to this many seconds (0–30) when nothing is queued. */
  @IsOptional() @IsInt() @Min(0) @Max(30)
  wait_seconds?: number;
}

export class ClaimedJobDto {
  id: string;
  type: string;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;
  attempt: number;
  /** Present this token when completing; a newer claim makes it stale (409 LEASE_LOST). */
  lease_token: string;
  lease_expires_at: string;
}

export class CompleteJobDto {
  @IsString() @MinLength(1) @MaxLength(128)
  lease_token: string;

  @IsIn(['succeeded', 'failed'])
  status: 'succeeded' | 'failed';

  @IsOptional() @IsString() @MaxLength(4000)
  error?: string;

  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  result?: Record<string, unknown>;
}
