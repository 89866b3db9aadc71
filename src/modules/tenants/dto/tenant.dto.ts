import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { SLUG_PATTERN } from '../../workspaces/dto/workspace.dto';
import { ApiDateTime, ApiEnum } from '../../../common/api/api-schema';

export const TENANT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];
/** What `PATCH /tenants/:id` may set (`DELETE` deletes). */
export const SETTABLE_TENANT_STATUSES = ['active', 'suspended'] as const satisfies readonly TenantStatus[];
export type SettableTenantStatus = (typeof SETTABLE_TENANT_STATUSES)[number];

export class TenantDto {
  @ApiProperty({ example: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  slug: string;
  display_name: string;
  plan: string;
  @ApiEnum(TENANT_STATUSES, 'TenantStatus')
  status: TenantStatus;
  /** false: members sign in through the tenant's identity provider; its owners keep a break-glass password. */
  password_login: boolean;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class CreateTenantDto {
  /** `^[a-z0-9][a-z0-9-]{1,62}$`, unique. */
  @Matches(SLUG_PATTERN, { message: 'must match ^[a-z0-9][a-z0-9-]{1,62}$' })
  @ApiProperty({ pattern: SLUG_PATTERN.source, example: 'acme' })
  slug: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Acme Corp' })
  display_name: string;

  @IsOptional() @IsString() @MinLength(1) @MaxLength(50)
  plan?: string;

  /** Becomes the tenant's `owner`: an existing user is added; a new one is invited. */
  @IsEmail() @MaxLength(254)
  @ApiProperty({ example: 'owner@acme.example' })
  admin_email: string;
}

export class CreatedTenantDto extends TenantDto {
  /** The owner's user id. */
  admin_user_id: string;
  /** Present once when the admin was invited (a new user). */
  @ApiProperty({ required: false })
  admin_invitation_token?: string;
}

export class UpdateTenantDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  display_name?: string;

  @IsOptional() @IsString() @MinLength(1) @MaxLength(50)
  plan?: string;

  @IsOptional() @IsIn(SETTABLE_TENANT_STATUSES)
  @ApiEnum(SETTABLE_TENANT_STATUSES, 'SettableTenantStatus')
  status?: SettableTenantStatus;

  /** false turns password sign-in off for everyone but the tenant's owners (register an identity provider first). */
  @IsOptional() @IsBoolean()
  password_login?: boolean;
}

export class ListTenantsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(TENANT_STATUSES)
  @ApiEnum(TENANT_STATUSES, 'TenantStatus')
  status?: TenantStatus;

  @IsOptional() @IsString() @MaxLength(50)
  plan?: string;
}
