import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { DatabaseModule } from './common/db/database.module';
import { AuditInterceptorModule } from './common/http/audit-interceptor.module';
import { IdempotencyModule } from './common/http/idempotency.module';
import { ObservabilityModule } from './common/observability/observability.module';
import { RedisModule } from './common/redis/redis.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { KmsModule } from './common/crypto/kms.module';
import { AgentsModule } from './modules/agents/agents.module';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { JobsModule } from './modules/jobs/jobs.module';
import { PluginsModule } from './modules/plugins/plugins.module';
import { RequestsModule } from './modules/requests/requests.module';
import { SecretsModule } from './modules/secrets/secrets.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { AuthzModule } from './modules/authz/authz.module';
import { HealthModule } from './modules/health/health.module';
import { RolesModule } from './modules/roles/roles.module';
import { GroupsModule } from './modules/groups/groups.module';
import { TenantsModule } from './modules/tenants/tenants.module';
import { UsersModule } from './modules/users/users.module';
import { WorkspacesModule } from './modules/workspaces/workspaces.module';
import { WorkflowsModule } from './modules/workflows/workflows.module';
import { PoliciesModule } from './modules/policies/policies.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, rootLogger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(rootLogger),
        DatabaseModule,
        RedisModule,
        IdempotencyModule,
        AuditInterceptorModule,
        HealthModule,
        AuditModule,
        AuthModule,
        UsersModule,
        TenantsModule,
        WorkspacesModule,
        RolesModule,
        GroupsModule,
        AuthzModule,
        ApiKeysModule,
        KmsModule,
        AgentsModule,
        JobsModule,
        SecretsModule,
        RequestsModule,
        PluginsModule,
        WorkflowsModule,
        PoliciesModule,
        WebhooksModule,
      ],
    };
  }
}
