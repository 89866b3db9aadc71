import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';

export class UserDto {
  @ApiProperty({ example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  email: string;
  name: string;
  /** In this tenant: `invited` until the invitation is accepted, `disabled` when switched off here. */
  @ApiProperty({ enum: ['active', 'invited', 'disabled'] })
  status: 'active' | 'invited' | 'disabled';
  is_platform_admin: boolean;
  created_at: string;
  updated_at: string;
}

export class CreateUserDto {
  @IsEmail() @MaxLength(254)
  email: string;

  @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  /** At least 12 characters. Omit it to invite the user instead (the response carries `invitation_token` once). */
  @IsOptional() @IsString() @MinLength(12) @MaxLength(256)
  password?: string;
}

export class CreatedUserDto extends UserDto {
  /** Present once, when the user was invited: give it to them to set a password via `/auth/accept-invitation`. */
  @ApiProperty({ required: false, example: 'csi_Yx3…' })
  invitation_token?: string;
}

export class UpdateUserDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  /** `disabled` revokes the user's sessions in this tenant at once. */
  @IsOptional() @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';
}

export class ListUsersQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(['active', 'invited', 'disabled'])
  status?: 'active' | 'invited' | 'disabled';

  @IsOptional() @IsEmail()
  email?: string;
}
