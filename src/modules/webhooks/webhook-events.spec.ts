import { retryDelayMs } from './webhook-dispatcher';
import { isValidSubscription, subscribes, toSlackMessage, WebhookPayload } from './webhook-events';

describe('webhook events', () => {
  it('accepts exact names and family wildcards, nothing else', () => {
    expect(isValidSubscription('request.submitted')).toBe(true);
    expect(isValidSubscription('request.*')).toBe(true);
    expect(isValidSubscription('audit.*')).toBe(true);
    expect(isValidSubscription('ping')).toBe(false);
    expect(isValidSubscription('*')).toBe(false);
    expect(isValidSubscription('request.nope')).toBe(false);
    expect(isValidSubscription('nope.*')).toBe(false);
  });

  it('matches a wildcard within its family only', () => {
    expect(subscribes(['request.*'], 'request.break_glass')).toBe(true);
    expect(subscribes(['request.*'], 'agent.offline')).toBe(false);
    expect(subscribes(['request.approved'], 'request.approval_needed')).toBe(false);
  });

  it('renders a Slack message with title, requester, reason, what is needed and a link from PUBLIC_URL', () => {
    const payload: WebhookPayload = {
      id: 'evt_1',
      type: 'request.approval_needed',
      created_at: '2026-12-02T00:00:00.000Z',
      tenant_id: 'ten_1',
      data: { request_id: 'req_1', title: 'Read prod/db', reason: 'outage', requester_id: 'usr_1', stage: 0, stage_name: 'lead', remaining_approvals: 1, eligible_approvers: [{ user_id: 'usr_2', email: 'bob@x.example' }] },
    };
    const msg = toSlackMessage(payload, 'https://cs.example/');
    expect(msg.text).toContain('Approval needed: Read prod/db');
    expect(msg.text).toContain('*Reason:* outage');
    expect(msg.text).toContain('1 more approval(s) at stage "lead" from bob@x.example');
    expect(msg.text).toContain('<https://cs.example/api/v1/requests/req_1|Open in Countersign>');
    expect(msg.blocks[0]).toMatchObject({ type: 'header' });
    expect(toSlackMessage(payload, null).text).not.toContain('http');
  });

  it('backs off exponentially with jitter, capped at an hour', () => {
    expect(retryDelayMs(1, 1000, () => 0.5)).toBe(1000);
    expect(retryDelayMs(3, 1000, () => 0.5)).toBe(4000);
    expect(retryDelayMs(3, 1000, () => 0)).toBe(3000);
    expect(retryDelayMs(3, 1000, () => 1)).toBe(5000);
    expect(retryDelayMs(40, 1000, () => 0.5)).toBe(3600_000);
  });
});
