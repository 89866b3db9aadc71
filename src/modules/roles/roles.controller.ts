import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { WithETag } from '../../common/http/caching';
import { CreateRoleDto, CreateUserRoleDto, ListUserRolesQueryDto, PermissionDto, ReplaceRolePermissionsDto, RoleDto, UserRoleDto } from './dto/role.dto';
import { RolesService } from './roles.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Permissions')
@Controller('api/v1/permissions')
export class PermissionsController {
  constructor(private readonly roles: RolesService) {}

  /** The tenant's permission catalog: core, and its enabled plugins' (`source: "plugin:<id>"`). Cacheable: honours If-None-Match (ETag). */
  @ApiOperation({ summary: 'List permissions' })
  @Get()
  @Authenticated()
  @Header('Cache-Control', 'private, max-age=60')
  @WithETag()
  @ApiOkResponse({ type: [PermissionDto] })
  list(@CurrentPrincipal() principal: Principal): Promise<PermissionDto[]> {
    return this.roles.permissions(principal);
  }
}

@ApiTags('Roles')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  /** Create a custom role. Its permissions must be known and held by the caller tenant-wide. */
  @ApiOperation({ summary: 'Create a role' })
  @Post()
  @Authenticated({ permission: 'role.edit', scope: 'tenant' })
  @Audited('role.created')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Name taken (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateRoleDto): Promise<RoleDto> {
    return this.roles.create(principal, dto);
  }

  /** List the tenant's roles, built-in and custom. */
  @ApiOperation({ summary: 'List roles' })
  @Get()
  @Authenticated({ permission: 'role.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(RoleDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.roles.list(principal, query);
  }

  /** Get a role. */
  @ApiOperation({ summary: 'Get a role' })
  @Get(':id')
  @Authenticated({ permission: 'role.read', scope: 'tenant' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<RoleDto> {
    return this.roles.get(principal, id);
  }

  /** Replace a custom role's permissions (built-ins: 409). */
  @ApiOperation({ summary: 'Replace a role\'s permissions' })
  @Put(':id/permissions')
  @Authenticated({ permission: 'role.edit', scope: 'tenant' })
  @Audited('role.permissions_replaced')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Built-in role (CONFLICT).' })
  replacePermissions(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: ReplaceRolePermissionsDto): Promise<RoleDto> {
    return this.roles.replacePermissions(principal, id, dto);
  }

  /** Delete a custom role (409 IN_USE while assigned). */
  @ApiOperation({ summary: 'Delete a role' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'role.edit', scope: 'tenant' })
  @Audited('role.deleted')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Built-in (CONFLICT) or assigned (IN_USE).' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.roles.remove(principal, id);
  }
}

@ApiTags('UserRoles')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1')
export class UserRolesController {
  constructor(private readonly roles: RolesService) {}

  /**
   * Give a user a role at tenant, workspace or environment scope: needs `user_role.edit` at that scope (tenant scope
   * for a tenant-scope assignment) and every permission of the role there (anti-escalation).
   */
  @ApiOperation({ summary: 'Assign a role' })
  @Post('user-roles')
  @Authenticated({ permission: 'user_role.edit' })
  @Audited('role.assigned')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Already assigned (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateUserRoleDto): Promise<UserRoleDto> {
    return this.roles.assign(principal, dto);
  }

  /** List role assignments. */
  @ApiOperation({ summary: 'List role assignments' })
  @Get('user-roles')
  @Authenticated({ permission: 'role.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(UserRoleDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListUserRolesQueryDto) {
    return this.roles.listAssignments(principal, query);
  }

  /**
   * Remove a role assignment; effective on the next request. Needs `user_role.edit` at the assignment's scope (tenant
   * scope for tenant-scope assignments); an owner's assignments only an owner can remove (403), and the last active
   * owner's `owner` role cannot be removed (409 LAST_OWNER).
   */
  @ApiOperation({ summary: 'Remove a role assignment' })
  @Delete('user-roles/:id')
  @HttpCode(204)
  @Authenticated({ permission: 'user_role.edit' })
  @Audited('role.unassigned')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'The last active owner (LAST_OWNER).' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.roles.removeAssignment(principal, id);
  }

  /** A user's role assignments. */
  @ApiOperation({ summary: 'List a user\'s role assignments', operationId: 'Users_listRoles' })
  @Get('users/:id/roles')
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(UserRoleDto) })
  listForUser(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: PaginationQueryDto) {
    return this.roles.assignmentsOfUser(principal, id, query);
  }
}
