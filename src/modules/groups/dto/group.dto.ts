import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiInteger } from '../../../common/api/api-schema';

/** Printable, no leading or trailing space, one line. */
export const GROUP_NAME_PATTERN = /^\S(?:.*\S)?$/;

/** `managed_by` filter value for groups no identity provider manages. */
export const LOCAL_GROUPS = 'none';

export class CreateGroupDto {
  /** Unique in the tenant, 1–100 characters. */
  @IsString() @MinLength(1) @MaxLength(100) @Matches(GROUP_NAME_PATTERN, { message: 'must not start or end with a space or hold a line break' })
  @ApiProperty({ example: 'Platform team', pattern: GROUP_NAME_PATTERN.source })
  name: string;

  @IsOptional() @IsString() @MaxLength(500)
  @ApiProperty({ example: 'On-call approvers for production.' })
  description?: string;
}

export class UpdateGroupDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(100) @Matches(GROUP_NAME_PATTERN, { message: 'must not start or end with a space or hold a line break' })
  @ApiProperty({ example: 'Platform team', pattern: GROUP_NAME_PATTERN.source })
  name?: string;

  @IsOptional() @IsString() @MaxLength(500)
  @ApiProperty({ example: 'On-call approvers for production.' })
  description?: string;
}

export class ListGroupsQueryDto extends PaginationQueryDto {
  /** Only groups managed by this identity provider id, or `none` for local groups. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'none' })
  managed_by?: string;
}

export class GroupDto {
  @ApiProperty({ example: 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  @ApiProperty({ example: 'Platform team' })
  name: string;
  description: string;
  /** The identity provider whose sign-ins set the members (null: a local group, members edited through the API). */
  @ApiProperty({ type: String, nullable: true, example: null })
  managed_by: string | null;
  @ApiInteger({ example: 3 })
  member_count: number;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class AddGroupMemberDto {
  /** A member of the tenant. */
  @IsString() @MinLength(1) @MaxLength(64)
  @ApiProperty({ example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  user_id: string;
}

export class GroupMemberDto {
  @ApiProperty({ example: 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  group_id: string;
  @ApiProperty({ example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  user_id: string;
  @ApiProperty({ format: 'email', example: 'bob@example.com' })
  email: string;
  @ApiProperty({ example: 'Bob' })
  name: string;
  /** Who added the member (null: added by sign-in sync or the system). */
  @ApiProperty({ type: String, nullable: true, example: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0C' })
  added_by: string | null;
  @ApiDateTime()
  added_at: string;
}
