import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';

export class AuthzPrincipalRefDto {
  @IsIn(['user', 'api_key'])
  type: 'user' | 'api_key';

  @IsString() @MinLength(1) @MaxLength(64)
  id: string;
}

export class AuthzResourceRefDto {
  @IsIn(['tenant', 'workspace', 'environment'])
  type: 'tenant' | 'workspace' | 'environment';

  @IsString() @MinLength(1) @MaxLength(64)
  id: string;
}

export class AuthzCheckDto {
  @ValidateNested() @Type(() => AuthzPrincipalRefDto)
  principal: AuthzPrincipalRefDto;

  @IsString() @MinLength(1) @MaxLength(100)
  permission: string;

  @ValidateNested() @Type(() => AuthzResourceRefDto)
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
