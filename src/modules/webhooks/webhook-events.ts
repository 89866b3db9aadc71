/** Every event a webhook can subscribe to (SPEC §3). `ping` goes only to the endpoint under test. */
export const WEBHOOK_EVENTS = [
  'request.submitted',
  'request.approval_needed',
  'request.approved',
  'request.rejected',
  'request.break_glass',
  'request.completed',
  'request.failed',
  'request.rolled_back',
  'request.expired',
  'agent.offline',
  'audit.chain_broken',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | 'ping';

/** What a subscription may name: an exact event, or `<prefix>.*` for every event of a family. */
export function isValidSubscription(pattern: string): boolean {
  if ((WEBHOOK_EVENTS as readonly string[]).includes(pattern)) return true;
  return pattern.endsWith('.*') && WEBHOOK_EVENTS.some((e) => e.startsWith(pattern.slice(0, -1)));
}

export function subscribes(patterns: string[], event: string): boolean {
  return patterns.some((p) => p === event || (p.endsWith('.*') && event.startsWith(p.slice(0, -1))));
}

/** The JSON body of every delivery (`format: "json"`). */
export interface WebhookPayload {
  id: string;
  type: WebhookEvent;
  created_at: string;
  tenant_id: string;
  urgent?: boolean;
  data: Record<string, unknown>;
}

const isEvent = (v: unknown): v is WebhookEvent => v === 'ping' || (WEBHOOK_EVENTS as readonly unknown[]).includes(v);

/** A stored delivery body (jsonb) read back: the envelope this module wrote, checked before it is sent. */
export function isWebhookPayload(v: unknown): v is WebhookPayload {
  if (typeof v !== 'object' || v === null) return false;
  const p: Partial<Record<keyof WebhookPayload, unknown>> = v;
  return typeof p.id === 'string' && isEvent(p.type) && typeof p.created_at === 'string' && typeof p.tenant_id === 'string' && typeof p.data === 'object' && p.data !== null;
}

const TITLES: Record<WebhookEvent, string> = {
  'request.submitted': 'Request submitted',
  'request.approval_needed': 'Approval needed',
  'request.approved': 'Request approved',
  'request.rejected': 'Request rejected',
  'request.break_glass': ':rotating_light: BREAK-GLASS access',
  'request.completed': 'Request completed',
  'request.failed': 'Request failed',
  'request.rolled_back': 'Request rolled back',
  'request.expired': 'Request expired',
  'agent.offline': 'Agent offline',
  'audit.chain_broken': ':warning: Audit chain broken',
  ping: 'Ping from Countersign',
};

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** What is still needed for a request, in words (approval_needed), else null. */
function needed(data: Record<string, unknown>): string | null {
  if (data.remaining_approvals === undefined) return null;
  const approvers = Array.isArray(data.eligible_approvers) ? (data.eligible_approvers as { email?: string }[]).map((a) => a.email).filter(Boolean) : [];
  return `${String(data.remaining_approvals)} more approval(s) at stage "${String(data.stage_name ?? data.stage)}"${approvers.length ? ` from ${approvers.join(', ')}` : ''}`;
}

/** A Slack incoming-webhook message (`format: "slack"`): a text fallback plus blocks; the link only with PUBLIC_URL. */
export function toSlackMessage(payload: WebhookPayload, publicUrl: string | null): { text: string; blocks: unknown[] } {
  const d = payload.data;
  const title = `${TITLES[payload.type]}${str(d.title) ? `: ${String(d.title)}` : ''}`;
  const lines = [
    str(d.requester_email) ?? str(d.requester_id) ? `*Requester:* ${str(d.requester_email) ?? str(d.requester_id)}` : null,
    str(d.reason) ? `*Reason:* ${String(d.reason)}` : null,
    str(d.break_glass_reason) ? `*Break-glass reason:* ${String(d.break_glass_reason)}` : null,
    needed(d) ? `*Needed:* ${needed(d)}` : null,
  ].filter((l): l is string => l !== null);
  const requestId = str(d.request_id);
  const link = publicUrl && requestId ? `${publicUrl.replace(/\/+$/, '')}/api/v1/requests/${requestId}` : null;
  if (link) lines.push(`<${link}|Open in Countersign>`);
  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: title.slice(0, 150), emoji: true } }];
  if (lines.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  return { text: [title, ...lines].join('\n'), blocks };
}
