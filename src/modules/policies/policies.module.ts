import { Module } from '@nestjs/common';
import { RolesModule } from '../roles/roles.module';
import { GroupsModule } from '../groups/groups.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { PoliciesController } from './policies.controller';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { PolicyInputBuilder } from './policy-input.builder';

@Module({
  imports: [WorkflowsModule, WorkspacesModule, RolesModule, GroupsModule, SecretsModule],
  controllers: [PoliciesController],
  providers: [PoliciesService, PoliciesRepository, PolicyInputBuilder],
  exports: [PoliciesService, PolicyInputBuilder],
})
export class PoliciesModule {}
