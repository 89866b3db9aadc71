import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum, valuesOf } from '../../../common/api/api-schema';
import { ScopeType } from '../../../common/auth/principal';

/** Where a role assignment (or a permission check) applies. */
export const SCOPE_TYPES = valuesOf<ScopeType>()(['tenant', 'workspace', 'environment']);

export class PermissionDto {
  @ApiProperty({ example: 'request.approve' })
  key: string;
  description: string;
  /** `core` or `plugin:<id>`. */
  @ApiProperty({ example: 'core' })
  source: string;
}

export class CreateRoleDto {
  @Matches(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: 'must match ^[a-z0-9][a-z0-9._-]{0,62}$' })
  name: string;

  @IsOptional() @IsString() @MaxLength(500)
  description?: string;

  @IsArray() @ArrayMaxSize(200) @IsString({ each: true })
  permissions: string[];
}

export class ReplaceRolePermissionsDto {
  @IsArray() @ArrayMaxSize(200) @IsString({ each: true })
  permissions: string[];
}

export class RoleDto {
  @ApiProperty({ example: 'rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  permissions: string[];
  /** Built-in roles cannot be changed or deleted. */
  built_in: boolean;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

/** Exactly one of `user_id` and `group_id` (400 naming the field otherwise). */
export class CreateUserRoleDto {
  /** The user who gets the role (or give `group_id`). */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  user_id?: string;

  /** The group whose members get the role, each at this scope (or give `user_id`). The built-in owner role goes to users only. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  group_id?: string;

  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  role_id: string;

  @IsIn(SCOPE_TYPES)
  @ApiEnum(SCOPE_TYPES, 'ScopeType', { example: 'workspace' })
  scope_type: ScopeType;

  /** The tenant, workspace or environment id. */
  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  scope_id: string;
}

export class ListUserRolesQueryDto extends PaginationQueryDto {
  @IsOptional() @IsString() @MaxLength(64)
  user_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  role_id?: string;

  /** Assignments of this group. */
  @IsOptional() @IsString() @MaxLength(64)
  group_id?: string;
}

export class UserRoleDto {
  @ApiProperty({ example: 'ura_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  /** The user holding the role, or null when the assignment targets a group. */
  @ApiProperty({ type: String, nullable: true, example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  user_id: string | null;
  /** The group whose members hold the role, or null when the assignment targets a user. */
  @ApiProperty({ type: String, nullable: true, example: null })
  group_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: null })
  group_name: string | null;
  role_id: string;
  role_name: string;
  @ApiEnum(SCOPE_TYPES, 'ScopeType')
  scope_type: ScopeType;
  scope_id: string;
  @ApiProperty({ type: String, nullable: true })
  created_by: string | null;
  @ApiDateTime()
  created_at: string;
}
