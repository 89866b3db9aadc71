import { Injectable, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { Principal } from '../../common/auth/principal';
import { PrincipalChange, PrincipalChanges } from '../../common/db/principal-changes';
import { MetricsService } from '../../common/observability/metrics.service';
import { AppConfig } from '../../config/app-config';

/** How long a tenant stays uncached after this process saw a write for it before commit, unless the commit is seen sooner. */
const PENDING_MS = 5000;

interface Entry {
  principal: Principal;
  /** The credential's own end (session or key expiry): a hit after it resolves again, which refuses. */
  validUntil: number;
}

/**
 * Resolved principals per credential for at most `PRINCIPAL_CACHE_TTL_MS` (≤ 1 s), bounded in size. It never serves
 * a tenant after a write that can revoke: the writing replica stops serving the tenant from the cache as soon as its
 * trigger fires (before commit) until the commit notification arrives, every other replica drops the tenant's entries
 * when that notification arrives, and without a listening connection nothing is served from the cache. A lost
 * notification is bounded by the TTL. Failures are never cached.
 */
@Injectable()
export class PrincipalCache implements OnModuleInit {
  private readonly entries: LRUCache<string, Entry> | undefined;
  /** Tenant (`'*'`: all) → until when it is resolved uncached (a change of this process not yet seen committed). */
  private readonly pending = new Map<string, number>();
  /** Bumped by every change: a resolve that a change overlapped is not cached. */
  private epoch = 0;

  constructor(
    config: AppConfig,
    private readonly changes: PrincipalChanges,
    private readonly metrics: MetricsService,
  ) {
    this.entries = config.principalCacheTtlMs > 0 ? new LRUCache<string, Entry>({ max: config.principalCacheMax, ttl: config.principalCacheTtlMs, ttlAutopurge: false }) : undefined;
  }

  onModuleInit(): void {
    this.changes.subscribe((change) => this.apply(change));
  }

  /** The cached principal for a credential, or the resolver's answer (cached when it succeeds). */
  async resolve(kind: 'session' | 'api_key' | 'agent', credential: string, resolver: () => Promise<{ principal: Principal; validUntil?: number }>): Promise<Principal> {
    if (!this.entries) return (await resolver()).principal;
    const key = `${kind}:${createHash('sha256').update(credential).digest('base64url')}`;
    const hit = this.entries.get(key);
    if (hit && hit.validUntil > Date.now() && this.servable(hit.principal.tenantId)) {
      this.metrics.principalCache.inc({ result: 'hit' });
      return hit.principal;
    }
    this.metrics.principalCache.inc({ result: 'miss' });
    const epoch = this.epoch;
    const resolved = await resolver();
    // A change seen while resolving may postdate what was read: cache only what no change overlapped.
    if (this.epoch === epoch && this.servable(resolved.principal.tenantId)) {
      this.entries.set(key, { principal: resolved.principal, validUntil: resolved.validUntil ?? Number.POSITIVE_INFINITY });
    }
    return resolved.principal;
  }

  private servable(tenantId: string): boolean {
    return this.changes.listening && !this.isPending(tenantId) && !this.isPending('*');
  }

  private isPending(tenant: string): boolean {
    const until = this.pending.get(tenant);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.pending.delete(tenant);
    return false;
  }

  private apply(change: PrincipalChange): void {
    if (!this.entries) return;
    this.epoch++;
    if (change.kind === 'reset') {
      this.entries.clear();
      return;
    }
    if (change.tenant === '*') this.entries.clear();
    else this.forgetTenant(change.tenant);
    if (change.kind === 'pending') this.pending.set(change.tenant, Date.now() + PENDING_MS);
    else this.pending.delete(change.tenant);
  }

  private forgetTenant(tenantId: string): void {
    if (!this.entries) return;
    // Keys first, then deletes: lru-cache's iterators walk a linked list that a delete rewires.
    const doomed: string[] = [];
    for (const [key, entry] of this.entries.entries()) if (entry.principal.tenantId === tenantId) doomed.push(key);
    for (const key of doomed) this.entries.delete(key);
  }
}
