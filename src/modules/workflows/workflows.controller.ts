import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreateWorkflowDto, WorkflowDto } from './dto/workflow.dto';
import { WorkflowsService } from './workflows.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Workflows')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant (also an unknown approver role or user).' })
@Controller('api/v1/workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  /** Create an approval workflow. */
  @ApiOperation({ summary: 'Create a workflow' })
  @Post()
  @Authenticated({ permission: 'workflow.edit', scope: 'tenant' })
  @Audited('workflow.created')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWorkflowDto): Promise<WorkflowDto> {
    return this.workflows.create(principal, dto);
  }

  /** List the tenant's workflows, the built-in default included. */
  @ApiOperation({ summary: 'List workflows' })
  @Get()
  @Authenticated({ permission: 'workflow.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(WorkflowDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.workflows.list(principal, query);
  }

  /** Get a workflow. */
  @ApiOperation({ summary: 'Get a workflow' })
  @Get(':id')
  @Authenticated({ permission: 'workflow.read', scope: 'tenant' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WorkflowDto> {
    return this.workflows.get(principal, id);
  }

  /** Replace a workflow's definition (a new `version`; in-flight requests keep their snapshot). */
  @ApiOperation({ summary: 'Replace a workflow' })
  @Put(':id')
  @Authenticated({ permission: 'workflow.edit', scope: 'tenant' })
  @Audited('workflow.updated')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'The built-in default workflow cannot be changed (CONFLICT).' })
  replace(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: CreateWorkflowDto): Promise<WorkflowDto> {
    return this.workflows.replace(principal, id, dto);
  }

  /** Delete a workflow no policy points at. */
  @ApiOperation({ summary: 'Delete a workflow' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'workflow.edit', scope: 'tenant' })
  @Audited('workflow.deleted')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'A policy points at it (IN_USE), or it is the built-in default (CONFLICT).' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.workflows.remove(principal, id);
  }
}
