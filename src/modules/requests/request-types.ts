/** What the control plane needs to know about a request type; plugins will register their own later. */
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

/** The registry of request types (built-ins now; plugins extend it). */
export class RequestTypeRegistry {
  private readonly types = new Map(BUILT_IN.map((t) => [t.key, t]));

  get(key: string): RequestTypeDefinition | undefined {
    return this.types.get(key);
  }

  register(definition: RequestTypeDefinition): void {
    this.types.set(definition.key, definition);
  }

  keys(): string[] {
    return [...this.types.keys()];
  }
}
