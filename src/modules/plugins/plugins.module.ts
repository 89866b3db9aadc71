import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { RequestsModule } from '../requests/requests.module';
import { RolesModule } from '../roles/roles.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { PluginExtensionsService } from './plugin-extensions.service';
import { PluginSchemas } from './plugin-schemas';
import { PluginsController } from './plugins.controller';
import { PluginsRepository } from './plugins.repository';
import { PluginsService } from './plugins.service';

/** Plugins per tenant: manifests, settings, and what they add to request types, permissions and jobs. */
@Module({
  imports: [RequestsModule, RolesModule, JobsModule, WorkspacesModule],
  controllers: [PluginsController],
  providers: [PluginsService, PluginExtensionsService, PluginSchemas, PluginsRepository],
})
export class PluginsModule {}
