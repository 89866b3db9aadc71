import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Audited } from '../../common/audit/audited.decorator';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { AddGroupMemberDto, CreateGroupDto, GroupDto, GroupMemberDto, ListGroupsQueryDto, UpdateGroupDto } from './dto/group.dto';
import { GroupsService } from './groups.service';

@ApiTags('Groups')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  /** Create a local group (members edited through the API). */
  @ApiOperation({ summary: 'Create a group' })
  @Post()
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('group.created')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Name taken (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(principal, dto);
  }

  /** List the tenant's groups with their member counts; `managed_by` filters by identity provider (`none`: local groups). */
  @ApiOperation({ summary: 'List groups' })
  @Get()
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(GroupDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListGroupsQueryDto) {
    return this.groups.list(principal, query);
  }

  /** Get a group. */
  @ApiOperation({ summary: 'Get a group' })
  @Get(':id')
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<GroupDto> {
    return this.groups.get(principal, id);
  }

  /** Rename a group or change its description. */
  @ApiOperation({ summary: 'Update a group' })
  @Patch(':id')
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('group.updated')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Name taken (CONFLICT).' })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateGroupDto): Promise<GroupDto> {
    return this.groups.update(principal, id, dto);
  }

  /** Delete a group with its memberships and role assignments; its members lose its grants on the next request. */
  @ApiOperation({ summary: 'Delete a group' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('group.deleted')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'A workflow stage or an identity provider names the group (IN_USE).' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.groups.remove(principal, id);
  }

  /** A group's members, in user id order. */
  @ApiOperation({ summary: 'List group members' })
  @Get(':id/members')
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(GroupMemberDto) })
  listMembers(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: PaginationQueryDto) {
    return this.groups.listMembers(principal, id, query);
  }

  /**
   * Add a member of the tenant to a local group. The caller must hold every permission of the group's role assignments
   * at their scopes (403 PRIVILEGE_ESCALATION); provider-managed groups are synced at sign-in (409).
   */
  @ApiOperation({ summary: 'Add a group member' })
  @Post(':id/members')
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('group.member_added')
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'Missing user.manage at tenant scope (PERMISSION_DENIED) or a permission of the group (PRIVILEGE_ESCALATION).' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Already a member, or the group is managed by an identity provider (CONFLICT).' })
  addMember(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: AddGroupMemberDto): Promise<GroupMemberDto> {
    return this.groups.addMember(principal, id, dto);
  }

  /** Remove a member from a local group; effective on the next request on every replica. */
  @ApiOperation({ summary: 'Remove a group member' })
  @Delete(':id/members/:user_id')
  @HttpCode(204)
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('group.member_removed')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'The group is managed by an identity provider (CONFLICT).' })
  removeMember(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('user_id') userId: string): Promise<void> {
    return this.groups.removeMember(principal, id, userId);
  }
}
