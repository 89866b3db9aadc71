// A client program written against the @hey-api/openapi-ts SDK (./hey-api), as an API consumer would write it.
// test/e2e/generated-client-hey-api.e2e-spec.ts type-checks it (strict) against an SDK freshly generated from the live
// document, then runs it against the test app. Nothing here is Countersign code: only the generated SDK.
import type {} from './fetch-globals';
import type { Auth } from './hey-api/client';
import { createClient } from './hey-api/client';
import {
  agentSecretsBulk,
  agentsMint,
  authLogin,
  authSetup,
  requestsCreate,
  requestsGet,
  secretsList,
  workspacesCreate,
  workspacesCreateEnvironment,
  workspacesGet,
  workspacesList,
} from './hey-api';
import type { RequestDto, RequestStatus, WorkspaceDto } from './hey-api';

export interface Walk {
  workspaces: WorkspaceDto[];
  request: RequestDto;
  missingCode: string | undefined;
  missingStatus: number;
}

const ADMIN = { email: 'sdk-admin@example.com', password: 'a long sdk password', name: 'SDK Admin' };

export async function walk(baseUrl: string): Promise<Walk> {
  const credentials: { token?: string; agentSecret?: string } = {};
  // One client; credentials come from the security schemes each operation declares.
  const client = createClient({
    baseUrl,
    auth: (auth: Auth) => (auth.scheme === 'bearer' ? credentials.token : auth.name === 'X-Agent-Secret' ? credentials.agentSecret : undefined),
  });

  const setup = await authSetup({ client, body: ADMIN });
  if (setup.error) throw new Error(`setup: ${setup.error.error.code}`);
  const login = await authLogin({ client, body: { email: ADMIN.email, password: ADMIN.password } });
  if (!login.data) throw new Error(`login: ${login.error?.error.code}`);
  const tokenType: 'bearer' = login.data.token_type;
  credentials.token = login.data.access_token;

  const ws = await workspacesCreate({ client, body: { slug: 'sdk-payments', display_name: 'SDK Payments' } });
  if (!ws.data) throw new Error(`create workspace: ${ws.error?.error.code}`);
  const env = await workspacesCreateEnvironment({ client, path: { id: ws.data.id }, body: { name: 'prod', protected: false } });
  if (!env.data) throw new Error(`create environment: ${env.error?.error.code}`);

  // An agent reports one secret; a rotation request for it is created as a draft.
  const minted = await agentsMint({ client, body: { name: 'sdk-agent', workspace_id: ws.data.id, environment_id: env.data.id, cluster_name: 'c1', capabilities: [] } });
  if (!minted.data) throw new Error(`mint agent: ${minted.error?.error.code}`);
  credentials.agentSecret = minted.data.agent_secret;
  const bulk = await agentSecretsBulk({ client, path: { id: minted.data.agent.id }, body: { secrets: [{ cluster_name: 'c1', provider: 'file', ref: 'sdk/db' }] } });
  if (!bulk.data) throw new Error(`report secrets: ${bulk.error?.error.code}`);
  const secrets = await secretsList({ client, query: { limit: 10 } });
  const secret = secrets.data?.data.find((s) => s.ref === 'sdk/db');
  if (!secret) throw new Error('the reported secret is not listed');

  const created = await requestsCreate({ client, body: { type: 'secret.rotate', title: 'Rotate the SDK db password', reason: 'generated client walk', secret_id: secret.id, submit: false } });
  if (!created.data) throw new Error(`create request: ${created.error?.error.code}`);
  const draft: RequestStatus = created.data.status;
  const got = await requestsGet({ client, path: { id: created.data.id } });
  if (!got.data) throw new Error(`get request: ${got.error?.error.code}`);

  const page = await workspacesList({ client, query: { limit: 10, status: 'active' } });
  if (!page.data) throw new Error(`list workspaces: ${page.error?.error.code}`);
  const next: string | null = page.data.pagination.next_cursor;

  const missing = await workspacesGet({ client, path: { id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } });
  void tokenType;
  void draft;
  void next;
  return { workspaces: page.data.data, request: got.data, missingCode: missing.error?.error.code, missingStatus: missing.response.status };
}

/** Never called: each line must be a compile error, or the SDK's types are too loose to be worth generating. */
export async function misuse(): Promise<void> {
  // @ts-expect-error SetupDto requires a password
  await authSetup({ body: { email: 'a@example.com', name: 'A' } });
  // @ts-expect-error the path parameter is {id}
  await workspacesGet({ path: { workspace: 'x' } });
  // @ts-expect-error status is an enum
  await workspacesList({ query: { status: 'archived' } });
  const ws = await workspacesCreate({ body: { slug: 'x', display_name: 'x' } });
  // @ts-expect-error WorkspaceDto has no 'name'
  void ws.data?.name;
}
