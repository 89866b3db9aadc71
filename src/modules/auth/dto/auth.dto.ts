import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { TenantDto } from '../../tenants/dto/tenant.dto';
import { UserDto } from '../../users/dto/user.dto';
import { ApiEnum, ApiInteger } from '../../../common/api/api-schema';
import { SCOPE_TYPES } from '../../roles/dto/role.dto';

/** Where an effective permission holds: a scope, or `platform` for a platform admin's. */
export const PERMISSION_SCOPE_TYPES = ['platform', ...SCOPE_TYPES] as const;
export type PermissionScopeType = (typeof PERMISSION_SCOPE_TYPES)[number];

export class SetupStatusDto {
  /** True while no user exists: `POST /auth/setup` creates the first platform admin. */
  setup_required: boolean;
}

export class SetupDto {
  @IsEmail() @MaxLength(254)
  @ApiProperty({ example: 'admin@example.com' })
  email: string;

  /** At least 12 characters. */
  @IsString() @MinLength(12) @MaxLength(256)
  @ApiProperty({ example: 'correct-horse-battery-staple' })
  password: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Ada Admin' })
  name: string;

  /**
   * Required when the server runs with NODE_ENV=production: the value of SETUP_TOKEN or, when that is unset, the token
   * the server generated and logged (warn level) at its first start. Ignored otherwise.
   */
  @IsOptional() @IsString() @MaxLength(256)
  setup_token?: string;
}

export class SetupResultDto {
  user: UserDto;
  tenant: TenantDto;
}

export class LoginDto {
  @IsEmail() @MaxLength(254)
  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @IsString() @MinLength(1) @MaxLength(256)
  @ApiProperty({ example: 'correct-horse-battery-staple' })
  password: string;

  /** Tenant to sign in to; default: the user's first active membership. */
  @IsOptional() @IsString() @MaxLength(64)
  tenant_id?: string;
}

export class RefreshDto {
  /** The `csr_…` token of the last pair; each one works once. */
  @IsString() @MinLength(1) @MaxLength(256)
  refresh_token: string;
}

export class SwitchTenantDto {
  @IsString() @MinLength(1) @MaxLength(64)
  tenant_id: string;
}

export class AcceptInvitationDto {
  /** The `csi_…` invitation token. */
  @IsString() @MinLength(1) @MaxLength(256)
  token: string;

  /** At least 12 characters. */
  @IsString() @MinLength(12) @MaxLength(256)
  password: string;

  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;
}

export class TokenPairDto {
  /** JWT (HS256) with `sub`, `tid`, `sid`, `iss`, `aud`, `iat`, `exp`, `jti`. */
  access_token: string;
  @ApiProperty({ enum: ['bearer'] })
  token_type: 'bearer';
  /** Seconds until the access token expires. */
  @ApiInteger()
  expires_in: number;
  /** Opaque `csr_…`; rotates on every use. */
  refresh_token: string;
  @ApiInteger()
  refresh_expires_in: number;
  user: UserDto;
}

export class MembershipDto {
  tenant_id: string;
  slug: string;
  display_name: string;
}

export class ScopePermissionsDto {
  @ApiEnum(PERMISSION_SCOPE_TYPES, 'PermissionScopeType')
  scope_type: string;
  scope_id: string;
  permissions: string[];
}

export class MeDto {
  user: UserDto;
  tenant: TenantDto;
  memberships: MembershipDto[];
  /** Effective permissions, grouped by the scope they hold at. */
  permissions: ScopePermissionsDto[];
}
