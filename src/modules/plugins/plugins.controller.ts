import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { InstallPluginDto, ManifestValidationDto, PluginDto, PluginJobDto, PluginJobRequestDto, PluginManifestDto, UpdatePluginDto, ValidateManifestDto } from './dto/plugin.dto';
import { PluginsService } from './plugins.service';
import { AuditExempt, Audited } from '../../common/audit/audited.decorator';

@ApiTags('Plugins')
@Controller('api/v1/plugins')
export class PluginsController {
  constructor(private readonly plugins: PluginsService) {}

  /** The manifests of the built-in plugins (`kubernetes-secrets`, `aws-iam`, `argocd`). */
  @ApiOperation({ summary: 'List catalog plugins' })
  @Get('catalog')
  @Authenticated({ permission: 'plugin.read', scope: 'tenant' })
  @ApiOkResponse({ type: [PluginManifestDto] })
  catalog(@CurrentPrincipal() principal: Principal): PluginManifestDto[] {
    return this.plugins.catalog(principal);
  }

  /** Check a manifest without installing it: schema (JSON Schema 2020-12), schemas that do not compile, namespace, clashes. */
  @ApiOperation({ summary: 'Validate a manifest' })
  @Post('validate')
  @HttpCode(200)
  @Authenticated({ permission: 'plugin.read', scope: 'tenant' })
  @AuditExempt('dry run: checks a manifest and writes nothing')
  validate(@CurrentPrincipal() principal: Principal, @Body() dto: ValidateManifestDto): Promise<ManifestValidationDto> {
    return this.plugins.validate(principal, dto.manifest);
  }

  /** Install a plugin in your tenant, from the catalog or a custom manifest, with its settings. */
  @ApiOperation({ summary: 'Install a plugin' })
  @Post()
  @Authenticated({ permission: 'plugin.manage', scope: 'tenant' })
  @Audited('plugin.installed')
  @ApiBadRequestResponse({ type: ErrorEnvelope, description: 'VALIDATION_FAILED (settings do not match settings_schema, unknown catalog_id).' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'CONFLICT: a key clashes with core or another installed plugin, or the plugin is installed already.' })
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: 'PLUGIN_MANIFEST_INVALID' })
  install(@CurrentPrincipal() principal: Principal, @Body() dto: InstallPluginDto): Promise<PluginDto> {
    return this.plugins.install(principal, dto);
  }

  /** The tenant's installed plugins (write-only settings as `"***"`). */
  @ApiOperation({ summary: 'List installed plugins' })
  @Get()
  @Authenticated({ permission: 'plugin.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(PluginDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.plugins.list(principal, query);
  }

  /** An installed plugin. */
  @ApiOperation({ summary: 'Get a plugin' })
  @Get(':id')
  @Authenticated({ permission: 'plugin.read', scope: 'tenant' })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such plugin in your tenant.' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<PluginDto> {
    return this.plugins.get(principal, id);
  }

  /** Enable or disable, or change settings (merged; write-only fields left out or sent as `"***"` are kept). */
  @ApiOperation({ summary: 'Update a plugin' })
  @Patch(':id')
  @Authenticated({ permission: 'plugin.manage', scope: 'tenant' })
  @Audited('plugin.updated')
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such plugin in your tenant.' })
  @ApiBadRequestResponse({ type: ErrorEnvelope, description: 'VALIDATION_FAILED (settings do not match settings_schema).' })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdatePluginDto): Promise<PluginDto> {
    return this.plugins.update(principal, id, dto);
  }

  /** Uninstall; 409 IN_USE while requests of its types are in flight. */
  @ApiOperation({ summary: 'Uninstall a plugin' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'plugin.manage', scope: 'tenant' })
  @Audited('plugin.uninstalled')
  @ApiNoContentResponse({ description: 'Uninstalled.' })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such plugin in your tenant.' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'IN_USE' })
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.plugins.remove(principal, id);
  }

  /** Enqueue a `plugin.test` job for an agent of the workspace with the plugin's capability. */
  @ApiOperation({ summary: 'Test a plugin' })
  @Post(':id/test')
  @HttpCode(202)
  @Authenticated({ permission: 'plugin.manage', scope: 'tenant' })
  @Audited('plugin.test_requested')
  @ApiAcceptedResponse({ type: PluginJobDto })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such plugin, workspace or environment in your tenant.' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'CONFLICT: the plugin is disabled.' })
  test(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: PluginJobRequestDto): Promise<PluginJobDto> {
    return this.plugins.enqueueJob(principal, id, 'plugin.test', dto);
  }

  /** Enqueue a `discovery.run` job for an agent of the workspace with the plugin's capability. */
  @ApiOperation({ summary: 'Run discovery with a plugin' })
  @Post(':id/discover')
  @HttpCode(202)
  @Authenticated({ permission: 'plugin.manage', scope: 'tenant' })
  @Audited('plugin.discovery_requested')
  @ApiAcceptedResponse({ type: PluginJobDto })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such plugin, workspace or environment in your tenant.' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'CONFLICT: the plugin is disabled.' })
  discover(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: PluginJobRequestDto): Promise<PluginJobDto> {
    return this.plugins.enqueueJob(principal, id, 'discovery.run', dto);
  }
}
