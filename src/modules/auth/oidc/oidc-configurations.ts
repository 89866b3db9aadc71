import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Configuration } from 'openid-client';
import { AppConfig } from '../../../config/app-config';
import { IssuerNotDiscoverableError, OidcProviderUnavailableError } from '../oidc.errors';
import * as oidc from 'openid-client';

/** What discovery needs of a provider (the secret in clear, just unsealed). */
export interface DiscoverableProvider {
  id: string;
  issuer: string;
  client_id: string;
  updated_at: Date;
}

/** How long a discovered configuration is reused; openid-client refetches the JWKS itself when it meets a new key id. */
const CONFIG_TTL_MS = 10 * 60 * 1000;
const DISCOVERY_TIMEOUT_SECONDS = 10;

/**
 * Discovery per provider (`/.well-known/openid-configuration`, RFC 8414 / OIDC Discovery), cached per provider and
 * version (a PATCH changes `updated_at`, so a changed issuer or client is discovered afresh). openid-client checks
 * that the document's `issuer` is the configured one exactly.
 */
@Injectable()
export class OidcConfigurations {
  private readonly cache = new LRUCache<string, Promise<Configuration>>({ max: 500, ttl: CONFIG_TTL_MS });

  constructor(private readonly config: AppConfig) {}

  async get(provider: DiscoverableProvider, clientSecret: string): Promise<Configuration> {
    const key = `${provider.id}:${provider.updated_at.getTime()}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.discover(provider, clientSecret);
      this.cache.set(key, pending);
      // A failed discovery is not cached: the next sign-in tries again.
      pending.catch(() => this.cache.delete(key));
    }
    return pending;
  }

  /** Fetches the discovery document now, without caching it (registration: 422 naming `issuer` when it does not answer). */
  async probe(provider: Pick<DiscoverableProvider, 'issuer' | 'client_id'>, clientSecret: string): Promise<void> {
    try {
      await this.discover(provider, clientSecret);
    } catch (error) {
      if (error instanceof OidcProviderUnavailableError) throw new IssuerNotDiscoverableError(error.detail);
      throw error;
    }
  }

  private async discover(provider: Pick<DiscoverableProvider, 'issuer' | 'client_id'>, clientSecret: string): Promise<Configuration> {
    const insecure = new URL(provider.issuer).protocol === 'http:' && this.config.oidc.allowInsecureIssuers;
    try {
      const configuration = await oidc.discovery(new URL(provider.issuer), provider.client_id, undefined, oidc.ClientSecretBasic(clientSecret), {
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      // The ID token's signature is checked against the issuer's JWKS too, not only trusted for arriving over TLS.
      oidc.enableNonRepudiationChecks(configuration);
      return configuration;
    } catch (error) {
      // The error may come from another realm (Jest) or be a plain fetch failure: only its message is kept.
      const detail = error && typeof error === 'object' && 'message' in error ? String((error as { message: unknown }).message) : String(error);
      throw new OidcProviderUnavailableError(`The issuer ${provider.issuer} could not be discovered: ${detail}`, detail);
    }
  }
}
