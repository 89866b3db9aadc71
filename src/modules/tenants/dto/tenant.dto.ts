import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { SLUG_PATTERN } from '../../workspaces/dto/workspace.dto';

export class TenantDto {
  @ApiProperty({ example: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  slug: string;
  display_name: string;
  plan: string;
  @ApiProperty({ enum: ['active', 'suspended', 'deleted'] })
  status: 'active' | 'suspended' | 'deleted';
  created_at: string;
  updated_at: string;
}

export class CreateTenantDto {
  /** `^[a-z0-9][a-z0-9-]{1,62}$`, unique. */
  @Matches(SLUG_PATTERN, { message: 'must match ^[a-z0-9][a-z0-9-]{1,62}$' })
  slug: string;

  @IsString() @MinLength(1) @MaxLength(200)
  display_name: string;

  @IsOptional() @IsString() @MinLength(1) @MaxLength(50)
  plan?: string;

  /** Becomes the tenant's `owner`: an existing user is added; a new one is invited. */
  @IsEmail() @MaxLength(254)
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

  @IsOptional() @IsIn(['active', 'suspended'])
  status?: 'active' | 'suspended';
}

export class ListTenantsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(['active', 'suspended', 'deleted'])
  status?: 'active' | 'suspended' | 'deleted';

  @IsOptional() @IsString() @MaxLength(50)
  plan?: string;
}
