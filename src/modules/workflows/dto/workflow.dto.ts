import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { ApiDateTime, ApiInteger } from '../../../common/api/api-schema';

export const MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 24 * 3600;

export class WorkflowStageInputDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty({ example: 'security' })
  name: string;

  /** Distinct eligible approvals needed to pass the stage, 1–10. */
  @IsInt() @Min(1) @Max(10)
  @ApiInteger({ example: 1 })
  required_approvals: number;

  /** Holders of any of these roles (at the request's scope, with `request.approve`) may approve. */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(64, { each: true })
  @ApiProperty({ example: ['rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })
  approver_role_ids?: string[];

  /** These users (with `request.approve`) may approve. */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(64, { each: true })
  @ApiProperty({ example: ['usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })
  approver_user_ids?: string[];

  /**
   * Members of these groups of the tenant (with `request.approve` at the request's scope) may approve. A stage needs
   * at least one approver role id, user id or group id.
   */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(64, { each: true })
  @ApiProperty({ example: ['grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })
  approver_group_ids?: string[];
}

/** The whole definition (POST creates it, PUT replaces it and increments `version`). */
export class CreateWorkflowDto {
  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Two-person rule' })
  name: string;

  @IsOptional() @IsString() @MaxLength(2000)
  @ApiProperty({ example: 'A lead, then security.' })
  description?: string;

  /** 1–10 stages, decided in order. */
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => WorkflowStageInputDto)
  stages: WorkflowStageInputDto[];

  /** A request still pending approval after this many seconds expires (60 s – 30 days); absent = never. */
  @IsOptional() @IsInt() @Min(60) @Max(MAX_APPROVAL_TIMEOUT_SECONDS)
  @ApiInteger({ example: 86400 })
  approval_timeout_seconds?: number;

  /** Execute as soon as the last stage passes (default true); otherwise the requester calls `/execute`. */
  @IsOptional() @IsBoolean()
  auto_execute?: boolean;
}

export class WorkflowStageDto {
  name: string;
  @ApiInteger()
  required_approvals: number;
  approver_role_ids: string[];
  approver_user_ids: string[];
  approver_group_ids: string[];
}

export class WorkflowDto {
  @ApiProperty({ example: 'wfl_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  @ApiProperty({ type: [WorkflowStageDto] })
  stages: WorkflowStageDto[];
  @ApiInteger({ nullable: true })
  approval_timeout_seconds: number | null;
  auto_execute: boolean;
  /** 1 at creation, +1 on every replace; requests keep the snapshot they were submitted with. */
  @ApiInteger()
  version: number;
  /** The tenant's default workflow (used when no policy matches); it cannot be changed or deleted. */
  built_in: boolean;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}
