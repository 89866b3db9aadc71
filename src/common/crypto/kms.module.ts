import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { KMS } from './kms';
import { LocalKms } from './local-kms';

/** Provides the configured `Kms` under the `KMS` token everywhere. `local` is the only provider today. */
@Global()
@Module({
  providers: [{ provide: KMS, useFactory: (config: AppConfig) => new LocalKms(config.kms), inject: [AppConfig] }],
  exports: [KMS],
})
export class KmsModule {}
