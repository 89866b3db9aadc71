import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApi, ClaimedJob } from '../api-client';
import { loadConfigFile } from '../config-file';
import { JobContext, JobFailure } from '../handlers/handler';
import { defaultHandlers } from '../handlers';
import { createLogger } from '../logger';
import { SecretProvider } from '../providers/provider';

/** The README's example (agent/examples/aws-iam) run as the agent runs it, on a copy of the folder. */
describe('example: agent/examples/aws-iam', () => {
  let dir: string;
  const TYPE = 'aws.rotate_iam_access_key';
  const settings = { region: 'eu-west-1', secret_access_key: 'example-secret-access-key-0123456789' };
  const ctx = { api: {} as AgentApi, provider: {} as SecretProvider, clusterName: 'c1', log: createLogger('error', { write: () => true }), signal: new AbortController().signal, privateKeyRaw: Buffer.alloc(32) } as JobContext;
  const job = (payload: Record<string, unknown>): ClaimedJob => ({ id: 'job_1', type: TYPE, request_id: 'req_1', payload, attempt: 1, lease_token: 'l', lease_expires_at: new Date().toISOString() });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-example-'));
    cpSync(join(__dirname, 'aws-iam'), dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates, rotates again, and the rollback restores the key the second rotation replaced', async () => {
    const handler = defaultHandlers({ files: false, exec: loadConfigFile(join(dir, 'config.json')).exec }).get(TYPE)!;
    const keyFile = join(dir, 'state', 'deploy-bot.key');

    const first = await handler(job({ target: { iam_user: 'deploy-bot' }, settings }), ctx);
    expect(first.result).toEqual({ iam_user: 'deploy-bot', old_access_key_id: 'none', new_access_key_id: expect.stringMatching(/^AKIA[0-9A-F]{16}$/) });
    const firstKey = (first.result as { new_access_key_id: string }).new_access_key_id;
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(firstKey);

    const second = await handler(job({ target: { iam_user: 'deploy-bot' }, settings }), ctx);
    expect(second.result).toMatchObject({ old_access_key_id: firstKey });
    expect(second.output).toMatch(/^rotated the access key of deploy-bot: AKIA/);

    const rollback = await handler(job({ target: { iam_user: 'deploy-bot' }, settings, rollback: true, original_result: second }), ctx);
    expect(rollback.result).toEqual({ iam_user: 'deploy-bot', restored_access_key_id: firstKey });
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(firstKey);
    expect(readFileSync(join(dir, 'state', 'history.log'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('fails on a bad target or a missing secret setting, saying why', async () => {
    const handler = defaultHandlers({ files: false, exec: loadConfigFile(join(dir, 'config.json')).exec }).get(TYPE)!;
    await expect(handler(job({ target: { user: 'x' }, settings }), ctx)).rejects.toThrow(new JobFailure('Command exited with code 2: target.iam_user is missing or not an IAM user name'));
    await expect(handler(job({ target: { iam_user: 'x' }, settings: { region: 'eu-west-1' } }), ctx)).rejects.toThrow('Command exited with code 3: the plugin setting secret_access_key is not set');
  });
});
