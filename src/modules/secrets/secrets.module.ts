import { Module } from '@nestjs/common';
import { AgentSecretsController, SecretsController } from './secrets.controller';
import { SecretsRepository } from './secrets.repository';
import { SecretsService } from './secrets.service';
import { WorkspacesModule } from '../workspaces/workspaces.module';

@Module({
  imports: [WorkspacesModule],
  controllers: [SecretsController, AgentSecretsController],
  providers: [SecretsService, SecretsRepository],
  exports: [SecretsService],
})
export class SecretsModule {}
