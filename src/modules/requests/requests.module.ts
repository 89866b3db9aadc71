import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ApprovalsModule } from '../approvals/approvals.module';
import { JobsModule } from '../jobs/jobs.module';
import { PoliciesModule } from '../policies/policies.module';
import { RolesModule } from '../roles/roles.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { AgentWrapsController, ApprovalsInboxController, RequestsController } from './requests.controller';
import { RequestsRepository } from './requests.repository';
import { RequestsService } from './requests.service';

@Module({
  imports: [ApprovalsModule, SecretsModule, RolesModule, WorkflowsModule, PoliciesModule, JobsModule, AgentsModule],
  controllers: [RequestsController, ApprovalsInboxController, AgentWrapsController],
  providers: [RequestsService, RequestsRepository],
})
export class RequestsModule {}
