import { Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module';
import { RolesModule } from '../roles/roles.module';
import { ApprovalEligibilityService } from './approval-eligibility.service';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

/** Approval decisions, the pure rules about them and who is eligible; the inbox route lives with requests (it lists requests). */
@Module({
  imports: [RolesModule, GroupsModule],
  providers: [ApprovalsService, ApprovalsRepository, ApprovalEligibilityService],
  exports: [ApprovalsService, ApprovalEligibilityService],
})
export class ApprovalsModule {}
