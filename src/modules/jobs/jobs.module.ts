import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { JobNotifier } from './job-notifier';
import { AgentJobsController, JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

@Module({
  imports: [AgentsModule, WorkspacesModule],
  controllers: [JobsController, AgentJobsController],
  providers: [JobsService, JobsRepository, JobNotifier],
  exports: [JobsService],
})
export class JobsModule {}
