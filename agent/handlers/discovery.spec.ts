import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApi, ClaimedJob, ReportedSecret } from '../api-client';
import { createLogger } from '../logger';
import { FileProvider } from '../providers/file-provider';
import { discoveryHandler } from './discovery';
import { JobContext, JobFailure } from './handler';

describe('discovery.run handler', () => {
  let dir: string;
  let reported: ReportedSecret[][];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-discovery-'));
    writeFileSync(join(dir, 'token'), 'value');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    reported = [];
  });

  const ctx = (): JobContext => ({
    api: {
      bulkSecrets: jest.fn(async (secrets: ReportedSecret[]) => {
        reported.push(secrets);
        return { created: secrets.length, updated: 0, unchanged: 0, removed: 0 };
      }),
    } as unknown as AgentApi,
    provider: new FileProvider(dir),
    clusterName: 'c1',
    log: createLogger('error', { write: () => true }),
    signal: new AbortController().signal,
    privateKeyRaw: Buffer.alloc(32),
  });
  const job = (payload: Record<string, unknown>): ClaimedJob => ({ id: 'job_1', type: 'discovery.run', request_id: null, payload, attempt: 1, lease_token: 'l', lease_expires_at: new Date().toISOString() });

  it('reports the files of --dir with a full sync', async () => {
    expect(await discoveryHandler(job({}), ctx())).toEqual({ created: 1, updated: 0, unchanged: 0, removed: 0 });
    expect(reported).toEqual([[{ cluster_name: 'c1', provider: 'file', ref: 'token', labels: {}, status: 'active' }]]);
  });

  it("refuses a plugin's discovery job instead of full-syncing the files under it", async () => {
    await expect(discoveryHandler(job({ plugin_id: 'plg_1', settings: {} }), ctx())).rejects.toThrow(JobFailure);
    await expect(discoveryHandler(job({ plugin_id: 'plg_1', settings: {} }), ctx())).rejects.toThrow('no discovery for plugin "plg_1"');
    expect(reported).toEqual([]);
  });
});
