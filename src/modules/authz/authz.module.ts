import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { RolesModule } from '../roles/roles.module';
import { UsersModule } from '../users/users.module';
import { AuthzController } from './authz.controller';
import { AuthzService } from './authz.service';

@Module({
  imports: [RolesModule, UsersModule, ApiKeysModule],
  controllers: [AuthzController],
  providers: [AuthzService],
})
export class AuthzModule {}
