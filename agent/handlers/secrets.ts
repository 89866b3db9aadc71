/**
 * The secret jobs of an approved request (SPEC §5). The payload names the secret: `{secret:{id, provider,
 * cluster_name, ref}, wrap_id? (patch)}`; the ref is resolved inside `--dir` by the provider, which refuses anything
 * that leaves it. Values only ever exist in memory, are zeroed after use and are never logged nor put in a result or
 * an error message.
 *
 * - `secret.read`: read the file → `POST /dek` → AES-256-GCM under the DEK → `POST /wraps` → `{wrap_id}`.
 * - `secret.patch`: `GET /wraps/:wrap_id` (sealed to our X25519 key) → open → write atomically → `{written: true}`.
 * - `secret.rotate`: 32 random bytes as base64url → write atomically → `{rotated: true}`.
 */
import { randomBytes } from 'node:crypto';
import { ClaimedJob, ReadWrapBody } from '../api-client';
import { encryptWithDek, openSealed } from '../crypto';
import { retryTransient } from '../retry';
import { JobContext, JobFailure, JobHandler } from './handler';

export interface SecretPayload {
  id: string;
  provider: string;
  cluster_name: string;
  ref: string;
}

/** Transient failures of the idempotent (or harmless) calls are retried this long before the job fails. */
const RETRY_BUDGET_MS = 30_000;
const ROTATED_VALUE_BYTES = 32;

/** The payload's secret, checked to be ours: this provider, this cluster. */
export function secretOf(job: ClaimedJob, ctx: JobContext): SecretPayload {
  const s = job.payload?.secret as Partial<SecretPayload> | undefined;
  if (!s || typeof s !== 'object' || typeof s.ref !== 'string' || typeof s.provider !== 'string') throw new JobFailure('The job payload names no secret (payload.secret.ref, payload.secret.provider).');
  if (s.provider !== ctx.provider.name) throw new JobFailure(`The secret's provider is "${s.provider}"; this agent serves "${ctx.provider.name}".`);
  if (typeof s.cluster_name === 'string' && s.cluster_name !== ctx.clusterName) {
    throw new JobFailure(`The secret lives on cluster "${s.cluster_name}"; this agent serves "${ctx.clusterName}".`);
  }
  return s as SecretPayload;
}

export const secretReadHandler: JobHandler = async (job, ctx) => {
  const secret = secretOf(job, ctx);
  const value = await ctx.provider.read(secret.ref);
  let dek: Buffer | undefined;
  let body: ReadWrapBody;
  try {
    const issued = await retryTransient(() => ctx.api.issueDek(ctx.signal), { signal: ctx.signal, budgetMs: RETRY_BUDGET_MS, log: ctx.log, what: 'DEK request' });
    dek = Buffer.from(issued.dek, 'base64');
    if (dek.length !== 32) throw new JobFailure(`The server issued a DEK of ${dek.length} bytes; expected 32.`);
    body = { job_id: job.id, dek_id: issued.dek_id, ...encryptWithDek(dek, value) };
  } finally {
    dek?.fill(0);
    value.fill(0);
  }
  // The same key and the same body on a retry: the server replays the first 201 instead of storing a second wrap.
  const key = `countersign-agent:${job.id}:${job.attempt}:read-wrap`;
  const { wrap_id } = await retryTransient(() => ctx.api.postReadWrap(body, key, ctx.signal), { signal: ctx.signal, budgetMs: RETRY_BUDGET_MS, log: ctx.log, what: 'wrap upload' });
  ctx.log.info('secret read and wrapped', { job_id: job.id, secret_id: secret.id, ref: secret.ref, wrap_id });
  return { wrap_id };
};

export const secretPatchHandler: JobHandler = async (job, ctx) => {
  const secret = secretOf(job, ctx);
  const wrapId = job.payload?.wrap_id;
  if (typeof wrapId !== 'string' || !wrapId) throw new JobFailure('The patch job carries no wrap_id.');
  // Resolve the ref before taking the single-shot wrap, so a bad ref does not burn it.
  await ctx.provider.locate(secret.ref);
  // Not retried: the wrap is handed over once, so a retry after a lost response could only meet 410 WRAP_CONSUMED.
  const sealed = await ctx.api.fetchPatchWrap(wrapId, ctx.signal);
  let value: Buffer;
  try {
    value = openSealed(ctx.privateKeyRaw, sealed);
  } catch {
    throw new JobFailure('The sealed value could not be opened with this agent\'s key (altered, or sealed to another key).');
  }
  try {
    await ctx.provider.write(secret.ref, value);
  } finally {
    value.fill(0);
  }
  ctx.log.info('secret written', { job_id: job.id, secret_id: secret.id, ref: secret.ref, wrap_id: wrapId });
  return { written: true };
};

export const secretRotateHandler: JobHandler = async (job, ctx) => {
  const secret = secretOf(job, ctx);
  const raw = randomBytes(ROTATED_VALUE_BYTES);
  const value = Buffer.from(raw.toString('base64url'), 'utf8');
  raw.fill(0);
  try {
    await ctx.provider.write(secret.ref, value);
  } finally {
    value.fill(0);
  }
  ctx.log.info('secret rotated', { job_id: job.id, secret_id: secret.id, ref: secret.ref });
  return { rotated: true };
};
