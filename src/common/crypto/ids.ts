import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

export const ID_PREFIXES = {
  tenant: 'ten',
  workspace: 'wsp',
  environment: 'env',
  user: 'usr',
  role: 'rol',
  userRole: 'ura',
  apiKey: 'key',
  agent: 'agt',
  enrollment: 'enr',
  job: 'job',
  secret: 'sec',
  request: 'req',
  approval: 'apr',
  workflow: 'wfl',
  policy: 'pol',
  plugin: 'plg',
  wrap: 'wrp',
  dek: 'dek',
  audit: 'aud',
  session: 'ses',
  invitation: 'inv',
  refreshToken: 'rtk',
  webhook: 'whk',
  delivery: 'dlv',
  webhookEvent: 'evt',
  group: 'grp',
  authProvider: 'idp',
  oidcLogin: 'oil',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

/** Prefixed, time-sortable id: `req_01JD3…` (a monotonic ULID behind the type prefix). */
export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${ulid()}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${ID_PREFIXES[kind]}_`);
}
