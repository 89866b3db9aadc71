import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum } from '../../../common/api/api-schema';

export const WORKSPACE_STATUSES = ['active', 'deleted'] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

export class CreateWorkspaceDto {
  /** `^[a-z0-9][a-z0-9-]{1,62}$`, unique in the tenant. */
  @Matches(SLUG_PATTERN, { message: 'must match ^[a-z0-9][a-z0-9-]{1,62}$' })
  @ApiProperty({ pattern: SLUG_PATTERN.source, example: 'payments' })
  slug: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Payments' })
  display_name: string;

  /** Capabilities agents of this workspace may offer, e.g. `kubernetes-secrets`. */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(100, { each: true })
  @ApiProperty({ example: ['kubernetes-secrets'] })
  capabilities?: string[];
}

export class UpdateWorkspaceDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  display_name?: string;

  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(100, { each: true })
  capabilities?: string[];
}

export class ListWorkspacesQueryDto extends PaginationQueryDto {
  /** `active` (default) or `deleted`. */
  @IsOptional() @IsIn(WORKSPACE_STATUSES)
  @ApiEnum(WORKSPACE_STATUSES, 'WorkspaceStatus')
  status?: WorkspaceStatus;
}

export class WorkspaceDto {
  @ApiProperty({ example: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  slug: string;
  display_name: string;
  capabilities: string[];
  @ApiEnum(WORKSPACE_STATUSES, 'WorkspaceStatus')
  status: WorkspaceStatus;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class CreateEnvironmentDto {
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'must match ^[a-z0-9][a-z0-9_-]{0,62}$' })
  @ApiProperty({ example: 'production' })
  name: string;

  /** Marks a production-like environment (policies can test `request.environment_protected`). */
  @IsOptional() @IsBoolean()
  @ApiProperty({ example: true })
  protected?: boolean;
}

export class EnvironmentDto {
  @ApiProperty({ example: 'env_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  workspace_id: string;
  name: string;
  protected: boolean;
  @ApiDateTime()
  created_at: string;
}
