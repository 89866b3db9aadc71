import { PROXY_ERROR_HEADER, REPLICA_HEADER } from './proxy';

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send to this replica only (through the proxy). */
  replica?: string;
  timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of many routes; each test reads the fields it needs
export type Json = any;

export interface CallResult<T = Json> {
  status: number;
  json: T;
  headers: Headers;
  /** The replica that answered (the proxy's header), or null when the proxy itself answered. */
  replica: string | null;
  /** The proxy answered 502: the replica died before answering (outcome unknown for a mutation). */
  proxyError: boolean;
}

/** What the clients of a run saw, for the summary: every answer by class; every 5xx a replica itself sent. */
export class CallStats {
  sent = 0;
  byStatus: Record<string, number> = {};
  /** 5xx answered by a replica (a defect), as `METHOD path → status body`. */
  appServerErrors: string[] = [];
  /** 502 from the proxy (a replica killed under the request) and network errors: the outcome is unknown. */
  unknownOutcome = 0;

  record(method: string, urlPath: string, status: number, proxyError: boolean, text: string): void {
    this.sent++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (proxyError) this.unknownOutcome++;
    else if (status >= 500) this.appServerErrors.push(`${method} ${urlPath} → ${status} ${text.slice(0, 300)}`);
  }
}

/** A tiny JSON client for the cluster (through the proxy unless `base` is a replica's own URL). */
export class Api {
  constructor(readonly base: string, readonly stats = new CallStats()) {}

  async call<T = Json>(method: string, urlPath: string, options: CallOptions = {}): Promise<CallResult<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) {
      if (options.token.startsWith('csk_')) headers['x-api-key'] = options.token;
      else headers.authorization = `Bearer ${options.token}`;
    }
    if (options.replica) headers[REPLICA_HEADER] = options.replica;
    let res: Response;
    try {
      res = await fetch(`${this.base}${urlPath}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      this.stats.sent++;
      this.stats.unknownOutcome++;
      throw new Error(`${method} ${urlPath}: ${(error as Error).message}`, { cause: error });
    }
    const text = await res.text();
    let json: T;
    try {
      json = (text ? JSON.parse(text) : undefined) as T;
    } catch {
      json = undefined as T;
    }
    const proxyError = res.headers.get(PROXY_ERROR_HEADER) === '1';
    this.stats.record(method, urlPath, res.status, proxyError, text);
    return { status: res.status, json, headers: res.headers, replica: res.headers.get(REPLICA_HEADER), proxyError };
  }

  /** Like `call`, but throws unless the status is `expected`. */
  async must<T = Json>(expected: number, method: string, urlPath: string, options: CallOptions = {}): Promise<CallResult<T>> {
    const res = await this.call<T>(method, urlPath, options);
    if (res.status !== expected) throw new Error(`${method} ${urlPath}: expected ${expected}, got ${res.status} ${JSON.stringify(res.json)?.slice(0, 400)}`);
    return res;
  }
}

let forwardedCounter = 0;
/** A distinct client address per login (X-Forwarded-For, trusted from the loopback proxy): the `auth` rate-limit class is per IP. */
export function nextClientAddress(): string {
  forwardedCounter++;
  return `10.${(forwardedCounter >> 16) & 255}.${(forwardedCounter >> 8) & 255}.${forwardedCounter & 255}`;
}

export const PASSWORD = 'cluster password 1234';

export interface Tenant {
  admin: string;
  owner: string;
  tenantId: string;
  workspaceId: string;
  roleId(name: string): string;
  login(email: string): Promise<string>;
  /** A user with `role` at tenant or workspace scope: its id, a token and the assignment's id. */
  addUser(email: string, role: string, scope: 'tenant' | 'workspace'): Promise<{ id: string; token: string; assignmentId: string }>;
  enrollmentToken(maxUses?: number): Promise<string>;
}

/** The README walk-through once: setup (production: with the setup token), a tenant with its owner, a workspace. */
export async function setupTenant(api: Api, setupToken: string, slug = 'cluster'): Promise<Tenant> {
  const login = async (email: string) =>
    (await api.must(200, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, headers: { 'x-forwarded-for': nextClientAddress() } })).json.access_token as string;
  await api.must(201, 'POST', '/api/v1/auth/setup', { body: { email: `admin@${slug}.example`, password: PASSWORD, name: 'Admin', setup_token: setupToken } });
  const admin = await login(`admin@${slug}.example`);
  const tenant = await api.must(201, 'POST', '/api/v1/tenants', { token: admin, body: { slug, display_name: slug, plan: 'team', admin_email: `owner@${slug}.example` } });
  await api.must(200, 'POST', '/api/v1/auth/accept-invitation', { body: { token: tenant.json.admin_invitation_token, password: PASSWORD, name: 'Owner' }, headers: { 'x-forwarded-for': nextClientAddress() } });
  const owner = await login(`owner@${slug}.example`);
  const workspaceId = (await api.must(201, 'POST', '/api/v1/workspaces', { token: owner, body: { slug: 'payments', display_name: 'Payments', capabilities: ['file'] } })).json.id as string;
  const roles = (await api.must(200, 'GET', '/api/v1/roles?limit=200', { token: owner })).json.data as { id: string; name: string }[];
  const roleId = (name: string) => {
    const role = roles.find((r) => r.name === name);
    if (!role) throw new Error(`no role ${name}`);
    return role.id;
  };
  return {
    admin,
    owner,
    tenantId: tenant.json.id,
    workspaceId,
    roleId,
    login,
    async addUser(email, role, scope) {
      const user = (await api.must(201, 'POST', '/api/v1/users', { token: owner, body: { email, name: email.split('@')[0], password: PASSWORD } })).json;
      const assignment = await api.must(201, 'POST', '/api/v1/user-roles', {
        token: owner,
        body: { user_id: user.id, role_id: roleId(role), scope_type: scope, scope_id: scope === 'tenant' ? tenant.json.id : workspaceId },
      });
      return { id: user.id as string, token: await login(email), assignmentId: assignment.json.id as string };
    },
    async enrollmentToken(maxUses = 1) {
      return (await api.must(201, 'POST', '/api/v1/agents/enrollment-tokens', { token: owner, body: { workspace_id: workspaceId, max_uses: maxUses } })).json.token as string;
    },
  };
}

/** `countersign_background_task_runs_total{task,outcome}` of one replica's `/metrics` text, as `task → outcome → n`. */
export function backgroundRuns(metricsText: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of metricsText.split('\n')) {
    const m = /^countersign_background_task_runs_total\{([^}]*)\}\s+([0-9.e+]+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    (out[labels.task] ??= {})[labels.outcome] = Number(m[2]);
  }
  return out;
}
