import { Injectable } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { AppConfig } from '../../config/app-config';

export const MIN_PASSWORD_LENGTH = 12;

@Injectable()
export class PasswordHasher {
  /** Compared against when the email is unknown, so both failures cost one bcrypt comparison. */
  private readonly dummyHash: Promise<string>;

  constructor(private readonly config: AppConfig) {
    this.dummyHash = bcrypt.hash('countersign-timing-equaliser', config.bcryptCost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.config.bcryptCost);
  }

  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const ok = await bcrypt.compare(password, hash ?? (await this.dummyHash));
    return ok && !!hash;
  }
}
