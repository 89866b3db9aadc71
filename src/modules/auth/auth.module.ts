import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AuthGuard } from '../../common/auth/auth.guard';
import { JwtStrategy } from '../../common/auth/jwt.strategy';
import { PRINCIPAL_RESOLVER } from '../../common/auth/principal-resolver';
import { RouteAccessInventory } from '../../common/auth/route-access';
import { RateLimitGuard } from '../../common/http/rate-limit.guard';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { AgentsModule } from '../agents/agents.module';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { RolesModule } from '../roles/roles.module';
import { TenantsModule } from '../tenants/tenants.module';
import { GroupsModule } from '../groups/groups.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthProvidersController } from './auth-providers.controller';
import { AuthProvidersRepository } from './auth-providers.repository';
import { AuthProvidersService } from './auth-providers.service';
import { AuthService } from './auth.service';
import { JwksController } from './jwks.controller';
import { OidcLoginService } from './oidc-login.service';
import { OidcController } from './oidc.controller';
import { OidcConfigurations } from './oidc/oidc-configurations';
import { PrincipalCache } from './principal-cache';
import { PrincipalResolverService } from './principal-resolver.service';
import { SetupTokenService } from './setup-token.service';
import { TokenService } from './token.service';

/**
 * Sign-in flows, token issuing, and the wiring of the one global guard to the principal resolver. The rate-limit guard
 * is registered right after it: global guards run in registration order, and limits are keyed by the resolved principal.
 */
@Module({
  imports: [RateLimitModule, PassportModule, JwtModule.register({}), DiscoveryModule, UsersModule, TenantsModule, RolesModule, ApiKeysModule, AgentsModule, GroupsModule],
  controllers: [AuthController, JwksController, AuthProvidersController, OidcController],
  providers: [
    AuthService,
    AuthProvidersService,
    AuthProvidersRepository,
    OidcConfigurations,
    OidcLoginService,
    SetupTokenService,
    TokenService,
    JwtStrategy,
    RouteAccessInventory,
    PrincipalCache,
    { provide: PRINCIPAL_RESOLVER, useClass: PrincipalResolverService },
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [RouteAccessInventory, PRINCIPAL_RESOLVER],
})
export class AuthModule {}
