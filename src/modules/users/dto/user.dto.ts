import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum } from '../../../common/api/api-schema';

/** A user's status in a tenant: `invited` until the invitation is accepted, `disabled` when switched off there. */
export const USER_STATUSES = ['active', 'invited', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
/** What `PATCH /users/:id` may set (an invitation is accepted, never set). */
export const SETTABLE_USER_STATUSES = ['active', 'disabled'] as const satisfies readonly UserStatus[];
export type SettableUserStatus = (typeof SETTABLE_USER_STATUSES)[number];

export class UserDto {
  @ApiProperty({ example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  @ApiProperty({ format: 'email' })
  email: string;
  name: string;
  /** In this tenant: `invited` until the invitation is accepted, `disabled` when switched off here. */
  @ApiEnum(USER_STATUSES, 'UserStatus')
  status: UserStatus;
  is_platform_admin: boolean;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class CreateUserDto {
  @IsEmail() @MaxLength(254)
  @ApiProperty({ example: 'bob@example.com' })
  email: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Bob' })
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
  @IsOptional() @IsIn(SETTABLE_USER_STATUSES)
  @ApiEnum(SETTABLE_USER_STATUSES, 'SettableUserStatus')
  status?: SettableUserStatus;
}

export class ListUsersQueryDto extends PaginationQueryDto {
  @IsOptional() @IsIn(USER_STATUSES)
  @ApiEnum(USER_STATUSES, 'UserStatus')
  status?: UserStatus;

  @IsOptional() @IsEmail()
  email?: string;
}
