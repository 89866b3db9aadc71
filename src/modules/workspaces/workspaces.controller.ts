import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreateEnvironmentDto, CreateWorkspaceDto, EnvironmentDto, ListWorkspacesQueryDto, UpdateWorkspaceDto, WorkspaceDto } from './dto/workspace.dto';
import { WorkspacesService } from './workspaces.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Workspaces')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  /** Create a workspace. */
  @ApiOperation({ summary: 'Create a workspace' })
  @Post('workspaces')
  @Authenticated({ permission: 'workspace.manage' })
  @Audited('workspace.created')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Slug taken (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWorkspaceDto): Promise<WorkspaceDto> {
    return this.workspaces.create(principal, dto);
  }

  /** List workspaces the caller can read. */
  @ApiOperation({ summary: 'List workspaces' })
  @Get('workspaces')
  @Authenticated({ permission: 'workspace.read' })
  @ApiOkResponse({ type: PageOf(WorkspaceDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListWorkspacesQueryDto) {
    return this.workspaces.list(principal, query);
  }

  /** Get a workspace. */
  @ApiOperation({ summary: 'Get a workspace' })
  @Get('workspaces/:id')
  @Authenticated({ permission: 'workspace.read' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WorkspaceDto> {
    return this.workspaces.get(principal, id);
  }

  /** Change a workspace's display name or capabilities. */
  @ApiOperation({ summary: 'Update a workspace' })
  @Patch('workspaces/:id')
  @Authenticated({ permission: 'workspace.manage' })
  @Audited('workspace.updated')
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateWorkspaceDto): Promise<WorkspaceDto> {
    return this.workspaces.update(principal, id, dto);
  }

  /** Soft-delete a workspace (`status: "deleted"`). */
  @ApiOperation({ summary: 'Delete a workspace' })
  @Delete('workspaces/:id')
  @Authenticated({ permission: 'workspace.manage' })
  @Audited('workspace.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WorkspaceDto> {
    return this.workspaces.remove(principal, id);
  }

  /** Create an environment in a workspace. */
  @ApiOperation({ summary: 'Create an environment' })
  @Post('workspaces/:id/environments')
  @Authenticated({ permission: 'workspace.manage' })
  @Audited('environment.created')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Name taken in this workspace (CONFLICT).' })
  createEnvironment(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: CreateEnvironmentDto): Promise<EnvironmentDto> {
    return this.workspaces.createEnvironment(principal, id, dto);
  }

  /** List a workspace's environments. */
  @ApiOperation({ summary: 'List environments' })
  @Get('workspaces/:id/environments')
  @Authenticated({ permission: 'workspace.read' })
  @ApiOkResponse({ type: PageOf(EnvironmentDto) })
  listEnvironments(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: PaginationQueryDto) {
    return this.workspaces.listEnvironments(principal, id, query);
  }

  /** Delete an environment. */
  @ApiOperation({ summary: 'Delete an environment' })
  @Delete('environments/:id')
  @HttpCode(204)
  @Authenticated({ permission: 'workspace.manage' })
  @Audited('environment.deleted')
  removeEnvironment(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.workspaces.removeEnvironment(principal, id);
  }
}
