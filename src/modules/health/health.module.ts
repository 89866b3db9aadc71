import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../auth/auth.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { MetricsAccess } from './metrics-access';
import { MetricsController } from './metrics.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), JwtModule.register({}), AuthModule],
  controllers: [HealthController, MetricsController],
  providers: [HealthService, MetricsAccess],
})
export class HealthModule {}
