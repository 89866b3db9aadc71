import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { PermissionsController, RolesController, UserRolesController } from './roles.controller';
import { RolesRepository } from './roles.repository';
import { RolesService } from './roles.service';
import { PermissionCatalogService } from './permission-catalog.service';

@Module({
  imports: [UsersModule, WorkspacesModule],
  controllers: [PermissionsController, RolesController, UserRolesController],
  providers: [RolesService, RolesRepository, PermissionCatalogService],
  exports: [RolesService, PermissionCatalogService],
})
export class RolesModule {}
