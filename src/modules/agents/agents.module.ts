import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { AgentOfflineNotifier } from './agent-offline.notifier';
import { AgentsController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsService } from './agents.service';

@Module({
  imports: [WorkspacesModule, WebhooksModule],
  controllers: [AgentsController],
  providers: [AgentsService, AgentsRepository, AgentOfflineNotifier],
  exports: [AgentsService],
})
export class AgentsModule {}
