import { Principal } from './principal';

export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');

/** Claims of a Countersign access token. */
export interface AccessTokenClaims {
  sub: string;
  tid: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

/** Turns verified credentials into a principal, checking they are still valid (implemented by the auth module). */
export interface PrincipalResolver {
  fromAccessToken(claims: AccessTokenClaims): Promise<Principal>;
  fromApiKey(key: string): Promise<Principal>;
  /** `X-Agent-Secret` on `/api/v1/agents/:id/…`: the secret's agent must be the one in the path (else 403). */
  fromAgentSecret(pathAgentId: string | undefined, secret: string): Promise<Principal>;
}
