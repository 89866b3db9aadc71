import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from 'pino';
import { InvalidCredentialsError } from '../../common/auth/auth.errors';
import { ROOT_LOGGER } from '../../common/observability/observability.module';
import { AppConfig } from '../../config/app-config';
import { UsersService } from '../users/users.service';

export const SETUP_TOKEN_FILE = 'setup-token';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * With NODE_ENV=production, `POST /auth/setup` (whose caller becomes platform admin) needs a secret the operator has:
 * `SETUP_TOKEN`, or — when that is unset — a token generated at the first start that finds setup pending. The
 * generated one is written to `<DATA_DIR>/setup-token` (mode 0600), so a restart before setup keeps it, and printed
 * once, at warn level, when it is created; the file is removed once setup succeeds. Outside production nothing is
 * required and `setup_token` is ignored.
 */
@Injectable()
export class SetupTokenService implements OnApplicationBootstrap {
  private expected?: string;

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  get required(): boolean {
    return this.config.nodeEnv === 'production';
  }

  private get file(): string {
    return path.join(this.config.dataDir, SETUP_TOKEN_FILE);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.required || this.config.setupToken) return;
    try {
      if ((await this.users.countUsers()) > 0) {
        fs.rmSync(this.file, { force: true });
        return;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'setup token: could not tell whether setup is pending; the token is made at the first setup attempt');
      return;
    }
    this.expected = this.loadOrCreate();
  }

  /** Throws 401 INVALID_CREDENTIALS unless `given` is the setup token (production only). */
  verify(given: string | undefined): void {
    if (!this.required) return;
    const expected = this.config.setupToken ?? (this.expected ??= this.loadOrCreate());
    if (given === undefined || !timingSafeEqual(digest(given), digest(expected))) {
      throw new InvalidCredentialsError('The setup token is missing or wrong (NODE_ENV=production: SETUP_TOKEN, or the token logged at the first start).');
    }
  }

  /** Setup succeeded: a generated token is spent. */
  completed(): void {
    if (!this.required || this.config.setupToken) return;
    this.expected = undefined;
    fs.rmSync(this.file, { force: true });
  }

  private loadOrCreate(): string {
    try {
      const kept = fs.readFileSync(this.file, 'utf8').trim();
      if (kept) {
        this.logger.warn({ file: this.file }, 'setup is pending: POST /api/v1/auth/setup needs setup_token, the generated token kept in this file');
        return kept;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const token = randomBytes(24).toString('base64url');
    let where = `kept in ${this.file} until setup`;
    try {
      fs.mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(this.file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(this.file, 'utf8').trim() || token; // another start wrote it first
      where = `not saved (${(error as Error).message}): valid until this process stops`;
    }
    // In the message, not a field: fields named like a token are redacted from every log line.
    this.logger.warn({ file: this.file }, `setup is pending: POST /api/v1/auth/setup needs "setup_token": "${token}" (shown once; ${where}; set SETUP_TOKEN to choose it)`);
    return token;
  }
}
