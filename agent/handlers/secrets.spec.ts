import { createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealToPublicKey } from '../../src/common/crypto/x25519-seal';
import { AgentApi, ClaimedJob, ReadWrapBody } from '../api-client';
import { generateKeyPair } from '../crypto';
import { createLogger } from '../logger';
import { FileProvider } from '../providers/file-provider';
import { ProviderError } from '../providers/provider';
import { JobContext, JobFailure } from './handler';
import { secretPatchHandler, secretReadHandler, secretRotateHandler } from './secrets';

const job = (type: string, ref: string, extra: Record<string, unknown> = {}, secret: Record<string, unknown> = {}): ClaimedJob => ({
  id: 'job_1',
  type,
  request_id: 'req_1',
  payload: { secret: { id: 'sec_1', provider: 'file', cluster_name: 'c1', ref, ...secret }, ...extra },
  attempt: 1,
  lease_token: 'lease-1',
  lease_expires_at: new Date().toISOString(),
});

describe('secret job handlers', () => {
  let root: string;
  let dir: string;
  let lines: string[];
  let dek: Buffer;
  let posted: { body: ReadWrapBody; key: string }[];
  let fetched: string[];
  let sealed: unknown;
  const keys = generateKeyPair();

  const ctx = (): JobContext => {
    const api = {
      agentId: 'agt_1',
      issueDek: jest.fn(async () => ({ dek_id: 'dek_1', dek: dek.toString('base64'), wrapped_dek: 'wrapped' })),
      postReadWrap: jest.fn(async (body: ReadWrapBody, key: string) => {
        posted.push({ body, key });
        return { wrap_id: 'wrap_1' };
      }),
      fetchPatchWrap: jest.fn(async (wrapId: string) => {
        fetched.push(wrapId);
        return sealed;
      }),
    } as unknown as AgentApi;
    return { api, provider: new FileProvider(dir), clusterName: 'c1', log: createLogger('debug', { write: (l: string) => lines.push(l) }), signal: new AbortController().signal, privateKeyRaw: keys.privateKeyRaw };
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'secret-handlers-'));
    dir = join(root, 'secrets');
    mkdirSync(join(dir, 'db'), { recursive: true });
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'outside', 'file'), 'outside-value');
    writeFileSync(join(dir, 'db', 'password'), 'initial-db-password', { mode: 0o640 });
    chmodSync(join(dir, 'db', 'password'), 0o640);
    lines = [];
    dek = randomBytes(32);
    posted = [];
    fetched = [];
    sealed = undefined;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('secret.read: encrypts the file under the issued DEK and posts the wrap with an idempotency key', async () => {
    expect(await secretReadHandler(job('secret.read', 'db/password'), ctx())).toEqual({ wrap_id: 'wrap_1' });
    expect(posted).toHaveLength(1);
    const { body, key } = posted[0];
    expect(body).toMatchObject({ job_id: 'job_1', dek_id: 'dek_1' });
    expect(Buffer.from(body.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(body.tag, 'base64')).toHaveLength(16);
    const decipher = createDecipheriv('aes-256-gcm', dek, Buffer.from(body.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(body.tag, 'base64'));
    expect(Buffer.concat([decipher.update(Buffer.from(body.ciphertext, 'base64')), decipher.final()]).toString('utf8')).toBe('initial-db-password');
    expect(key).toBe('countersign-agent:job_1:1:read-wrap');
    expect(lines.join('')).not.toContain('initial-db-password');
  });

  it('secret.read: a missing file fails the job before a DEK is asked for', async () => {
    const c = ctx();
    await expect(secretReadHandler(job('secret.read', 'db/missing'), c)).rejects.toBeInstanceOf(ProviderError);
    expect(c.api.issueDek).not.toHaveBeenCalled();
  });

  it('secret.patch: opens the sealed value with the agent key and writes it atomically, keeping the mode', async () => {
    sealed = sealToPublicKey(keys.publicKeyRaw, Buffer.from('patched-value-123'));
    expect(await secretPatchHandler(job('secret.patch', 'db/password', { wrap_id: 'wrap_9' }), ctx())).toEqual({ written: true });
    expect(fetched).toEqual(['wrap_9']);
    expect(readFileSync(join(dir, 'db', 'password'), 'utf8')).toBe('patched-value-123');
    expect(statSync(join(dir, 'db', 'password')).mode & 0o777).toBe(0o640);
    expect(lines.join('')).not.toContain('patched-value-123');
  });

  it('secret.patch: a value sealed to another key fails without touching the file', async () => {
    sealed = sealToPublicKey(generateKeyPair().publicKeyRaw, Buffer.from('patched-value-123'));
    await expect(secretPatchHandler(job('secret.patch', 'db/password', { wrap_id: 'wrap_9' }), ctx())).rejects.toBeInstanceOf(JobFailure);
    expect(readFileSync(join(dir, 'db', 'password'), 'utf8')).toBe('initial-db-password');
  });

  it('secret.rotate: writes a fresh 32-byte base64url value, never returned', async () => {
    const result = await secretRotateHandler(job('secret.rotate', 'db/password'), ctx());
    expect(result).toEqual({ rotated: true });
    const value = readFileSync(join(dir, 'db', 'password'), 'utf8');
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(lines.join('')).not.toContain(value);
    await secretRotateHandler(job('secret.rotate', 'db/password'), ctx());
    expect(readFileSync(join(dir, 'db', 'password'), 'utf8')).not.toBe(value);
  });

  it('refuses refs that escape --dir (.., absolute, symlinked file or directory) without reading, fetching or writing', async () => {
    symlinkSync(join(root, 'outside', 'file'), join(dir, 'link'));
    symlinkSync(join(root, 'outside'), join(dir, 'linkdir'));
    sealed = sealToPublicKey(keys.publicKeyRaw, Buffer.from('x'));
    for (const ref of ['../outside/file', 'db/../../outside/file', '/etc/passwd', join(root, 'outside', 'file'), 'link', 'linkdir/file']) {
      const c = ctx();
      await expect(secretReadHandler(job('secret.read', ref), c)).rejects.toThrow(Error);
      await expect(secretPatchHandler(job('secret.patch', ref, { wrap_id: 'wrap_9' }), c)).rejects.toThrow(Error);
      await expect(secretRotateHandler(job('secret.rotate', ref), c)).rejects.toThrow(Error);
      expect(c.api.issueDek).not.toHaveBeenCalled();
    }
    expect(readFileSync(join(root, 'outside', 'file'), 'utf8')).toBe('outside-value');
    // The symlinks are still symlinks: nothing was written through or over them.
    expect(readFileSync(join(dir, 'link'), 'utf8')).toBe('outside-value');
    expect(posted).toHaveLength(0);
    expect(fetched).toHaveLength(0);
  });

  it('refuses a job for another provider or cluster, and a patch without a wrap id', async () => {
    await expect(secretReadHandler(job('secret.read', 'db/password', {}, { provider: 'vault' }), ctx())).rejects.toThrow('provider is "vault"');
    await expect(secretRotateHandler(job('secret.rotate', 'db/password', {}, { cluster_name: 'c2' }), ctx())).rejects.toThrow('cluster "c2"');
    await expect(secretPatchHandler(job('secret.patch', 'db/password'), ctx())).rejects.toThrow('no wrap_id');
    expect(readFileSync(join(dir, 'db', 'password'), 'utf8')).toBe('initial-db-password');
  });
});
