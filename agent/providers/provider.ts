/** Where secrets live on the agent's side. `list()` never reads values; `read`/`write` do (for read/patch jobs). */
export interface DiscoveredSecret {
  ref: string;
  labels: Record<string, string>;
  status: 'active' | 'unreadable';
}

export interface SecretProvider {
  /** The `provider` name reported to the server, e.g. `file`. */
  readonly name: string;
  list(): Promise<DiscoveredSecret[]>;
  /** The ref's location, or a ProviderError when it is malformed or leaves the provider's root. Reads nothing. */
  locate(ref: string): Promise<string>;
  read(ref: string): Promise<Buffer>;
  write(ref: string, value: Buffer): Promise<void>;
}

/** A bad ref or sidecar: the job fails with this message (never a value in it). */
export class ProviderError extends Error {}
