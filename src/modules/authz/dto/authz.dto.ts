import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { ApiEnum } from '../../../common/api/api-schema';
import { PrincipalType, ScopeType } from '../../../common/auth/principal';
import { SCOPE_TYPES } from '../../roles/dto/role.dto';

/** The principals whose access can be checked or explained (agents hold no roles). */
export const CHECKABLE_PRINCIPAL_TYPES = ['user', 'api_key'] as const satisfies readonly PrincipalType[];
export type CheckablePrincipalType = (typeof CHECKABLE_PRINCIPAL_TYPES)[number];

export class AuthzPrincipalRefDto {
  @IsIn(CHECKABLE_PRINCIPAL_TYPES)
  @ApiEnum(CHECKABLE_PRINCIPAL_TYPES, 'CheckablePrincipalType')
  type: CheckablePrincipalType;

  @IsString() @MinLength(1) @MaxLength(64)
  id: string;
}

export class AuthzResourceRefDto {
  @IsIn(SCOPE_TYPES)
  @ApiEnum(SCOPE_TYPES, 'ScopeType')
  type: ScopeType;

  @IsString() @MinLength(1) @MaxLength(64)
  id: string;
}

export class AuthzCheckDto {
  // ValidateNested alone lets a missing object through (then a 500 reading its fields).
  @IsObject() @ValidateNested() @Type(() => AuthzPrincipalRefDto)
  principal: AuthzPrincipalRefDto;

  @IsString() @MinLength(1) @MaxLength(100)
  permission: string;

  @IsObject() @ValidateNested() @Type(() => AuthzResourceRefDto)
  resource: AuthzResourceRefDto;
}

export class AuthzDecisionDto {
  allowed: boolean;
  reason: string;
}

export class AuthzSourceDto {
  @ApiProperty({ type: String, nullable: true })
  assignment_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  role_id: string | null;
  role_name: string;
  scope_type: string;
  scope_id: string;
  /** The group the assignment reaches the user through (null: the user's own assignment, or an API key). */
  @ApiProperty({ type: String, nullable: true, example: null })
  group_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: null })
  group_name: string | null;
  /** The role includes the permission. */
  grants_permission: boolean;
  /** The assignment's scope contains the resource. */
  covers_resource: boolean;
}

export class AuthzExplanationDto extends AuthzDecisionDto {
  permission: string;
  resource: AuthzResourceRefDto;
  principal: AuthzPrincipalRefDto;
  /** Every assignment (or API-key grant) considered. */
  sources: AuthzSourceDto[];
}
