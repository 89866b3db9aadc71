import { Injectable } from '@nestjs/common';
import { SessionContextRow, SessionRow } from './user.entity';
import { UsersRepository } from './users.repository';

/** Session and refresh-token storage; the auth module decides when to use it. */
@Injectable()
export class SessionsService {
  constructor(private readonly repo: UsersRepository) {}

  create(s: { id: string; tenant_id: string; user_id: string; expires_at: Date; ip?: string; user_agent?: string; auth_method?: SessionRow['auth_method']; auth_provider_id?: string }): Promise<SessionRow> {
    return this.repo.insertSession(s);
  }

  /** How the session was opened (`password` or `oidc`). */
  authMethod(sessionId: string): Promise<SessionRow['auth_method'] | undefined> {
    return this.repo.sessionAuthMethod(sessionId);
  }

  context(sessionId: string): Promise<SessionContextRow | undefined> {
    return this.repo.sessionContext(sessionId);
  }

  revoke(sessionId: string, reason: string): Promise<void> {
    return this.repo.revokeSession(sessionId, reason);
  }

  addRefreshToken(id: string, sessionId: string, tokenHash: string): Promise<void> {
    return this.repo.insertRefreshToken(id, sessionId, tokenHash);
  }

  lockRefreshToken(tokenHash: string) {
    return this.repo.lockRefreshToken(tokenHash);
  }

  markRefreshTokenUsed(id: string): Promise<void> {
    return this.repo.markRefreshTokenUsed(id);
  }
}
