import { Module } from '@nestjs/common';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

/** Approval decisions and the pure rules about them; the inbox route lives with requests (it lists requests). */
@Module({
  providers: [ApprovalsService, ApprovalsRepository],
  exports: [ApprovalsService],
})
export class ApprovalsModule {}
