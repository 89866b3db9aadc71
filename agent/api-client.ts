/**
 * The public HTTP API, as the agent uses it (global fetch, JSON). Every agent call carries `X-Agent-Secret`;
 * enrollment carries `Authorization: Bearer cse_…`. Neither credential is ever logged or put in an error message.
 */
import type { SealedValue } from './crypto';
import { AGENT_NAME, AGENT_VERSION } from './version';

export interface AgentInfo {
  id: string;
  name: string;
  workspace_id: string;
  cluster_name: string;
  capabilities: string[];
}

export interface ClaimedJob {
  id: string;
  type: string;
  request_id: string | null;
  payload: Record<string, unknown>;
  attempt: number;
  lease_token: string;
  lease_expires_at: string;
}

export interface ReportedSecret {
  cluster_name: string;
  provider: string;
  ref: string;
  labels: Record<string, string>;
  status?: 'active' | 'unreadable';
}

export interface BulkResult {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
}

export interface ReadWrapBody {
  job_id: string;
  dek_id: string;
  ciphertext: string;
  iv: string;
  tag: string;
}

export interface Completion {
  status: 'succeeded' | 'failed';
  error?: string;
  result?: Record<string, unknown>;
}

/** A response other than 2xx. `code` and `message` come from the error envelope; `retryAfterMs` from `Retry-After`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly retryAfterMs: number | null,
  ) {
    super(`${status} ${code}: ${message}`);
  }

  /** Worth retrying later: 5xx and 429. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The server could not be reached (refused, reset, DNS, timeout). Always transient. */
export class NetworkError extends Error {
  readonly transient = true;
}

/** The agent's credential was rejected (revoked or unknown): nothing to do but stop. */
export function isCredentialRejected(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

export function isTransient(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ApiError && err.transient);
}

/** A caller-requested abort (shutdown), as opposed to a failure. */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class ApiClient {
  private readonly base: string;

  constructor(baseUrl: string, private readonly fetchImpl: typeof fetch = fetch) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async enroll(enrollToken: string, body: { name: string; cluster_name: string; version: string; capabilities: string[] }): Promise<{ agent: AgentInfo; agent_secret: string }> {
    const res = await this.request('POST', '/api/v1/agents/enroll', { Authorization: `Bearer ${enrollToken}` }, body);
    return (await res.json()) as { agent: AgentInfo; agent_secret: string };
  }

  /** The agent-authenticated routes, bound to one agent id and secret. */
  forAgent(agentId: string, agentSecret: string): AgentApi {
    return new AgentApi(this, agentId, agentSecret);
  }

  async request(method: string, path: string, headers: Record<string, string>, body?: unknown, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
        headers: { 'User-Agent': `${AGENT_NAME}/${AGENT_VERSION}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : abortError();
      if (timeout.aborted) throw new NetworkError(`${method} ${path}: timed out`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new NetworkError(`${method} ${path}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (res.ok) return res;
    let code = 'HTTP_ERROR';
    let message = res.statusText;
    let requestId = res.headers.get('x-request-id');
    try {
      const parsed = (await res.json()) as { error?: { code?: string; message?: string; request_id?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
      requestId = parsed.error?.request_id ?? requestId;
    } catch {
      // not the error envelope (e.g. a proxy's page): keep the status text
    }
    throw new ApiError(res.status, code, message, requestId, parseRetryAfter(res.headers.get('retry-after')));
  }
}

export class AgentApi {
  constructor(
    private readonly client: ApiClient,
    readonly agentId: string,
    private readonly agentSecret: string,
  ) {}

  async registerPublicKey(publicKeyB64: string, signal?: AbortSignal): Promise<void> {
    await this.call('PUT', '/public-key', { public_key: publicKeyB64 }, { signal });
  }

  async heartbeat(body: { version: string; capabilities: string[] }, signal?: AbortSignal): Promise<void> {
    await this.call('POST', '/heartbeat', body, { signal });
  }

  /** Long-polls up to `waitSeconds`; null on 204 (nothing to do). */
  async claim(waitSeconds: number, signal?: AbortSignal): Promise<ClaimedJob | null> {
    const res = await this.call('POST', '/jobs/claim', { wait_seconds: waitSeconds }, { signal, timeoutMs: (waitSeconds + 15) * 1000 });
    if (res.status === 204) return null;
    return (await res.json()) as ClaimedJob;
  }

  async complete(jobId: string, leaseToken: string, completion: Completion, signal?: AbortSignal): Promise<void> {
    await this.call('POST', `/jobs/${encodeURIComponent(jobId)}/complete`, { lease_token: leaseToken, ...completion }, { signal });
  }

  async bulkSecrets(secrets: ReportedSecret[], fullSync: boolean, signal?: AbortSignal): Promise<BulkResult> {
    const res = await this.call('POST', '/secrets/bulk', { secrets, full_sync: fullSync }, { signal });
    return (await res.json()) as BulkResult;
  }

  /** A fresh data key for one read-flow wrap (used by the secret.read handler). */
  async issueDek(signal?: AbortSignal): Promise<{ dek_id: string; dek: string; wrapped_dek: string }> {
    const res = await this.call('POST', '/dek', {}, { signal });
    return (await res.json()) as { dek_id: string; dek: string; wrapped_dek: string };
  }

  /**
   * Read flow: the value encrypted under an issued DEK, for the job this agent holds → the wrap id. `idempotencyKey`
   * makes a retry after a lost response replay the first answer instead of storing a second wrap.
   */
  async postReadWrap(body: ReadWrapBody, idempotencyKey: string, signal?: AbortSignal): Promise<{ wrap_id: string }> {
    const res = await this.call('POST', '/wraps', body, { signal, headers: { 'Idempotency-Key': idempotencyKey } });
    return (await res.json()) as { wrap_id: string };
  }

  /** Patch flow: the new value sealed to this agent's X25519 key. Single-shot on the server (then 410). */
  async fetchPatchWrap(wrapId: string, signal?: AbortSignal): Promise<SealedValue> {
    const res = await this.call('GET', `/wraps/${encodeURIComponent(wrapId)}`, undefined, { signal });
    return (await res.json()) as SealedValue;
  }

  private call(method: string, suffix: string, body: unknown, options: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> }): Promise<Response> {
    return this.client.request(method, `/api/v1/agents/${encodeURIComponent(this.agentId)}${suffix}`, { ...options.headers, 'X-Agent-Secret': this.agentSecret }, body, options);
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function abortError(): Error {
  const err = new Error('aborted');
  err.name = 'AbortError';
  return err;
}
