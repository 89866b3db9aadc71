import { Principal } from '../../common/auth/principal';
import { PrincipalChange, PrincipalChanges } from '../../common/db/principal-changes';
import { asTenantId } from '../../common/db/tenant-id';
import { MetricsService } from '../../common/observability/metrics.service';
import { AppConfig } from '../../config/app-config';
import { PrincipalCache } from './principal-cache';

class FakeChanges {
  listening = true;
  private listener?: (c: PrincipalChange) => void;
  subscribe(l: (c: PrincipalChange) => void) {
    this.listener = l;
    return () => undefined;
  }
  emit(c: PrincipalChange) {
    this.listener?.(c);
  }
}

const principal = (tenant: string, id = 'usr_1'): Principal => ({ type: 'user', id, tenantId: asTenantId(tenant), label: id, platformAdmin: false, grants: [] });

function setup(ttl = 1000) {
  const changes = new FakeChanges();
  const config = { principalCacheTtlMs: ttl, principalCacheMax: 100 } as AppConfig;
  const cache = new PrincipalCache(config, changes as unknown as PrincipalChanges, new MetricsService());
  cache.onModuleInit();
  let calls = 0;
  const resolver = (tenant = 'ten_a') => async () => {
    calls++;
    return { principal: principal(tenant) };
  };
  return { cache, changes, resolver, calls: () => calls };
}

describe('PrincipalCache', () => {
  it('resolves once per credential while nothing changes', async () => {
    const { cache, resolver, calls } = setup();
    await cache.resolve('session', 'cred', resolver());
    await cache.resolve('session', 'cred', resolver());
    expect(calls()).toBe(1);
  });

  it('never caches with a TTL of 0', async () => {
    const { cache, resolver, calls } = setup(0);
    await cache.resolve('session', 'cred', resolver());
    await cache.resolve('session', 'cred', resolver());
    expect(calls()).toBe(2);
  });

  it("forgets a tenant's principals on a committed change, and only that tenant's", async () => {
    const { cache, changes, resolver, calls } = setup();
    await cache.resolve('session', 'a', resolver('ten_a'));
    await cache.resolve('session', 'b', resolver('ten_b'));
    changes.emit({ kind: 'committed', tenant: 'ten_a' });
    await cache.resolve('session', 'a', resolver('ten_a'));
    await cache.resolve('session', 'b', resolver('ten_b'));
    expect(calls()).toBe(3);
  });

  it('does not serve a tenant from the moment its change is pending until it is seen committed', async () => {
    const { cache, changes, resolver, calls } = setup();
    await cache.resolve('session', 'a', resolver());
    changes.emit({ kind: 'pending', tenant: 'ten_a' });
    await cache.resolve('session', 'a', resolver());
    await cache.resolve('session', 'a', resolver());
    expect(calls()).toBe(3);
    changes.emit({ kind: 'committed', tenant: 'ten_a' });
    await cache.resolve('session', 'a', resolver());
    await cache.resolve('session', 'a', resolver());
    expect(calls()).toBe(4);
  });

  it("a global change ('*') forgets every tenant", async () => {
    const { cache, changes, resolver, calls } = setup();
    await cache.resolve('session', 'a', resolver('ten_a'));
    changes.emit({ kind: 'committed', tenant: '*' });
    await cache.resolve('session', 'a', resolver('ten_a'));
    expect(calls()).toBe(2);
  });

  it('does not cache a resolution that a change overlapped', async () => {
    const { cache, changes, calls } = setup();
    let n = 0;
    const racing = async () => {
      n++;
      changes.emit({ kind: 'committed', tenant: 'ten_a' });
      return { principal: principal('ten_a') };
    };
    await cache.resolve('session', 'a', racing);
    await cache.resolve('session', 'a', racing);
    expect(n).toBe(2);
    expect(calls()).toBe(0);
  });

  it('serves nothing from the cache while the listener is down', async () => {
    const { cache, changes, resolver, calls } = setup();
    await cache.resolve('session', 'a', resolver());
    changes.listening = false;
    await cache.resolve('session', 'a', resolver());
    expect(calls()).toBe(2);
  });

  it('resolves again once the credential itself expired', async () => {
    const { cache, calls } = setup();
    let n = 0;
    const expiring = async () => {
      n++;
      return { principal: principal('ten_a'), validUntil: Date.now() - 1 };
    };
    await cache.resolve('session', 'a', expiring);
    await cache.resolve('session', 'a', expiring);
    expect(n + calls()).toBe(2);
  });

  it('does not cache failures', async () => {
    const { cache, resolver, calls } = setup();
    await expect(cache.resolve('session', 'a', () => Promise.reject(new Error('revoked')))).rejects.toThrow('revoked');
    await cache.resolve('session', 'a', resolver());
    expect(calls()).toBe(1);
  });
});
