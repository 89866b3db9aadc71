import { Injectable } from '@nestjs/common';
import { TenantId } from '../../common/db/tenant-id';

/** One schema violation of a plugin request's `target`, with its JSON path (e.g. `target.iam_user`). */
export interface TargetIssue {
  field: string;
  issue: string;
}

/** The plugin behind a request type (absent for the built-in secret types). */
export interface RequestTypePlugin {
  /** The installation's id (`plg_…`). */
  id: string;
  /** The manifest id (`aws-iam`). */
  manifestId: string;
  enabled: boolean;
}

/** What the control plane needs to know about a request type. */
export interface RequestTypeDefinition {
  key: string;
  description: string;
  /** Built-in secret types act on a secret of the inventory (`secret_id`); plugin types carry a `target`. */
  needsSecret: boolean;
  /** `required` for secret.patch (the new value), `forbidden` otherwise. */
  value: 'required' | 'forbidden';
  /** The job type the agent runs. */
  jobType: string;
  /** Patch jobs hand the agent a sealed value: only agents with a registered X25519 key may take them. */
  requiresPublicKey: boolean;
  /** Whether `POST /requests/:id/rollback` applies. */
  rollback: boolean;
  /** Plugin types: the capability an agent needs to run its jobs (built-ins derive it from the secret's provider). */
  capability?: string;
  /** Plugin types: the permission needed (at the request's scope) to create one, besides `request.create`. */
  requiredPermission?: string;
  /** Plugin types: checks `target` against the type's JSON Schema; an empty list means valid. */
  validateTarget?: (target: unknown) => TargetIssue[];
  plugin?: RequestTypePlugin;
}

/** Where types beyond the built-ins come from (the plugins installed in a tenant). */
export interface RequestTypeSource {
  /** The tenant's type `key` (disabled plugins' types included, marked `plugin.enabled: false`), or undefined. */
  find(tenantId: TenantId, key: string): Promise<RequestTypeDefinition | undefined>;
  /** Keys of the tenant's enabled types from this source. */
  keys(tenantId: TenantId): Promise<string[]>;
}

/** Agents advertise capabilities per provider; `kubernetes` secrets go to the `kubernetes-secrets` capability (SPEC §7). */
export function capabilityForProvider(provider: string): string {
  return provider === 'kubernetes' ? 'kubernetes-secrets' : provider;
}

const BUILT_IN: RequestTypeDefinition[] = [
  { key: 'secret.read', description: 'Reveal a secret value once to the requester.', needsSecret: true, value: 'forbidden', jobType: 'secret.read', requiresPublicKey: false, rollback: false },
  { key: 'secret.patch', description: 'Write a new value supplied with the request.', needsSecret: true, value: 'required', jobType: 'secret.patch', requiresPublicKey: true, rollback: false },
  { key: 'secret.rotate', description: 'Have the agent generate and write a new value.', needsSecret: true, value: 'forbidden', jobType: 'secret.rotate', requiresPublicKey: false, rollback: false },
];

/**
 * The registry of request types: the built-ins, plus whatever the registered sources (the plugins module) add per
 * tenant. Injectable and shared, so the plugins module extends the same instance the requests module reads.
 */
@Injectable()
export class RequestTypeRegistry {
  private readonly builtIns = new Map(BUILT_IN.map((t) => [t.key, t]));
  private readonly sources: RequestTypeSource[] = [];

  addSource(source: RequestTypeSource): void {
    this.sources.push(source);
  }

  isBuiltIn(key: string): boolean {
    return this.builtIns.has(key);
  }

  builtInKeys(): string[] {
    return [...this.builtIns.keys()];
  }

  /** The type as the tenant knows it (a disabled plugin's type is returned, marked; callers decide what that means). */
  async find(tenantId: TenantId, key: string): Promise<RequestTypeDefinition | undefined> {
    const builtIn = this.builtIns.get(key);
    if (builtIn) return builtIn;
    for (const source of this.sources) {
      const found = await source.find(tenantId, key);
      if (found) return found;
    }
    return undefined;
  }

  /** Every type a request can be created with in the tenant now. */
  async keys(tenantId: TenantId): Promise<string[]> {
    // One after the other: inside a transaction they share one connection, which runs one query at a time.
    const keys = [...this.builtIns.keys()];
    for (const source of this.sources) keys.push(...(await source.keys(tenantId)));
    return keys;
  }
}
