import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ApprovalsModule } from '../approvals/approvals.module';
import { JobsModule } from '../jobs/jobs.module';
import { PoliciesModule } from '../policies/policies.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { RequestDetailsService } from './request-details.service';
import { RequestExpirySweeper } from './request-expiry.sweeper';
import { RequestTransitionsService } from './request-transitions.service';
import { RequestTypeRegistry } from './request-types';
import { RequestVisibilityService } from './request-visibility.service';
import { AgentWrapsController, ApprovalsInboxController, RequestsController } from './requests.controller';
import { RequestsRepository } from './requests.repository';
import { RequestsService } from './requests.service';
import { WrapsRepository } from './wraps.repository';
import { WrapsService } from './wraps.service';

/**
 * Requests: creation and reading (`RequestsService`), transitions (`RequestTransitionsService`), who sees what
 * (`RequestVisibilityService`), wraps (`WrapsService`), the expiry sweeper, and the request-type registry that the
 * plugins module extends.
 */
@Module({
  imports: [ApprovalsModule, SecretsModule, WorkflowsModule, WorkspacesModule, PoliciesModule, JobsModule, AgentsModule, WebhooksModule],
  controllers: [RequestsController, ApprovalsInboxController, AgentWrapsController],
  providers: [
    RequestsService,
    RequestTransitionsService,
    RequestVisibilityService,
    RequestDetailsService,
    WrapsService,
    RequestExpirySweeper,
    RequestTypeRegistry,
    RequestsRepository,
    WrapsRepository,
  ],
  exports: [RequestTypeRegistry, RequestsService],
})
export class RequestsModule {}
