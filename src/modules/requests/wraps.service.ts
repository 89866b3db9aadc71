import { Inject, Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { iso, isoRequired } from '../../common/api/time';
import { Principal } from '../../common/auth/principal';
import { decryptWithDek, envelopeDecrypt, envelopeEncrypt, fromB64, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';
import { sealToPublicKey } from '../../common/crypto/x25519-seal';
import { AgentsService, dekContext } from '../agents/agents.service';
import { AuditService } from '../audit/audit.service';
import { JobsService } from '../jobs/jobs.service';
import { CreateWrapDto, RevealedValueDto, SealedWrapDto, WrapSummaryDto } from './dto/request.dto';
import { can } from './request-lifecycle';
import { RequestRow, WrapRow } from './request.entity';
import { InvalidTargetError, RequestFieldError, RequestNotFoundError, WrapConsumedError, WrapExpiredError, WrapNotFoundError } from './requests.errors';
import { RequestsRepository } from './requests.repository';
import { RequestVisibilityService } from './request-visibility.service';
import { WrapsRepository } from './wraps.repository';
import { asTenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';

export const DEFAULT_ACCESS_SECONDS = 3600;
const wrapContext = (tenantId: string, wrapId: string) => `wrap:${tenantId}:${wrapId}`;

/** A wrap's sealed value; consuming it clears these columns, so a wrap without them is a consumed one. */
function sealedValue(wrap: WrapRow): { wrappedDek: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const { wrapped_dek: wrappedDek, iv, tag, ciphertext } = wrap;
  if (wrappedDek === null || iv === null || tag === null || ciphertext === null) throw new WrapConsumedError();
  return { wrappedDek, iv: fromB64(iv), tag: fromB64(tag), ciphertext: fromB64(ciphertext) };
}

/**
 * Values in transit, never at rest in clear: the patch value sealed on arrival and handed to the agent once (sealed to
 * its X25519 key); the read value posted by the agent under a DEK and revealed to the requester once.
 */
@Injectable()
export class WrapsService {
  constructor(
    private readonly wraps: WrapsRepository,
    private readonly requests: RequestsRepository,
    private readonly visibility: RequestVisibilityService,
    private readonly jobs: JobsService,
    private readonly agents: AgentsService,
    private readonly audit: AuditService,
    @Inject(KMS) private readonly kms: Kms,
  ) {}

  /** Envelope-encrypts a patch request's new value in the creating transaction. */
  async sealPatchValue(row: RequestRow, value: string): Promise<void> {
    const wrapId = newId('wrap');
    const envelope = await envelopeEncrypt(this.kms, Buffer.from(value, 'utf8'), wrapContext(row.tenant_id, wrapId));
    await this.wraps.insertWrap(asTenantId(row.tenant_id), {
      id: wrapId,
      request_id: row.id,
      kind: 'patch',
      dek_id: null,
      wrapped_dek: envelope.wrappedDek,
      iv: toB64(envelope.iv),
      tag: toB64(envelope.tag),
      ciphertext: toB64(envelope.ciphertext),
      agent_id: null,
      expires_at: null,
    });
  }

  /** The patch request's sealed value (named in its job's payload). */
  async patchWrapOf(row: RequestRow): Promise<WrapRow | undefined> {
    return (await this.wraps.listWraps(asTenantId(row.tenant_id), row.id, 'patch'))[0];
  }

  async list(principal: Principal, id: string, query: { limit?: number; cursor?: string }): Promise<Page<WrapSummaryDto>> {
    const row = await this.visibility.find(principal, id);
    if (row.requester_id !== principal.id) throw new RequestNotFoundError(id);
    const page = toPageRequest(query);
    const rows = await this.wraps.listWraps(asTenantId(row.tenant_id), row.id, 'read', page.after, page.limit + 1);
    return toPage(rows, page, (w) => ({ id: w.id, created_at: isoRequired(w.created_at), expires_at: iso(w.expires_at), consumed_at: iso(w.consumed_at) }));
  }

  /** The requester's single reveal: decrypt, return, and destroy the ciphertext in the transaction that consumes it. */
  @Transactional()
  async reveal(principal: Principal, id: string, wrapId: string): Promise<RevealedValueDto> {
    const row = await this.visibility.find(principal, id);
    if (row.requester_id !== principal.id) throw new RequestNotFoundError(id);
    const wrap = await this.wraps.lockWrap(principal.tenantId, wrapId);
    if (!wrap || wrap.request_id !== row.id || wrap.kind !== 'read') throw new WrapNotFoundError(wrapId);
    if (wrap.consumed_at) throw new WrapConsumedError();
    if (wrap.expires_at && wrap.expires_at.getTime() <= Date.now()) throw new WrapExpiredError();
    const sealed = sealedValue(wrap);
    const dek = await this.kms.unwrap(sealed.wrappedDek, dekContext(wrap.tenant_id, required(wrap.dek_id, `DEK of read wrap ${wrap.id}`)));
    const value = decryptWithDek(dek, sealed).toString('utf8');
    dek.fill(0);
    await this.wraps.consumeWrap(principal.tenantId, wrapId);
    await this.audit.record({ action: 'wrap.revealed', resourceType: 'wrap', resourceId: wrapId, payload: { request_id: row.id } });
    return { value };
  }

  /** Read flow: the agent posts the value encrypted under a DEK it was issued, for the job it holds. */
  @Transactional()
  async createReadWrap(principal: Principal, dto: CreateWrapDto): Promise<{ wrap_id: string }> {
    const job = await this.jobs.leasedBy(principal.tenantId, dto.job_id, principal.id);
    const row = job.owner_type === 'request' && job.owner_id !== null ? await this.requests.lock(principal.tenantId, job.owner_id) : undefined;
    if (!row || row.type !== 'secret.read' || !can(row.status, 'complete')) throw new InvalidTargetError('This job does not carry a read request that is executing.');
    const wrappedDek = await this.agents.issuedDek(principal.tenantId, principal.id, dto.dek_id);
    // One read wrap per request. A job delivered again (its first agent died after wrapping) wraps the value again:
    // the newer wrap replaces one never revealed; once the value was revealed, it is not handed over a second time.
    const earlier = await this.wraps.listWraps(principal.tenantId, row.id, 'read');
    const revealed = earlier.find((w) => w.consumed_at);
    if (revealed) {
      await this.audit.record({ action: 'wrap.discarded', resourceType: 'wrap', resourceId: revealed.id, payload: { request_id: row.id, job_id: job.id, reason: 'already revealed' } });
      return { wrap_id: revealed.id };
    }
    if (earlier.length) {
      await this.wraps.deleteUnrevealed(principal.tenantId, earlier.map((w) => w.id));
      await this.audit.record({ action: 'wrap.superseded', resourceType: 'wrap', resourceId: earlier[0].id, payload: { request_id: row.id, job_id: job.id, superseded: earlier.map((w) => w.id) } });
    }
    const iv = b64(dto.iv, 'iv', 12);
    const tag = b64(dto.tag, 'tag', 16);
    const ciphertext = b64(dto.ciphertext, 'ciphertext');
    const wrap = await this.wraps.insertWrap(principal.tenantId, {
      id: newId('wrap'),
      request_id: row.id,
      kind: 'read',
      dek_id: dto.dek_id,
      wrapped_dek: wrappedDek,
      iv: toB64(iv),
      tag: toB64(tag),
      ciphertext: toB64(ciphertext),
      agent_id: principal.id,
      expires_at: new Date(Date.now() + (row.access_duration_seconds ?? DEFAULT_ACCESS_SECONDS) * 1000),
    });
    await this.audit.record({ action: 'wrap.created', resourceType: 'wrap', resourceId: wrap.id, payload: { request_id: row.id, job_id: job.id } });
    return { wrap_id: wrap.id };
  }

  /** Patch flow: the requested value, sealed to the claiming agent's X25519 key, handed over once. */
  @Transactional()
  async deliverPatchWrap(principal: Principal, wrapId: string): Promise<SealedWrapDto> {
    const wrap = await this.wraps.lockWrap(principal.tenantId, wrapId);
    if (!wrap || wrap.kind !== 'patch') throw new WrapNotFoundError(wrapId);
    const row = await this.requests.find(principal.tenantId, wrap.request_id);
    if (!row?.job_id) throw new WrapNotFoundError(wrapId);
    await this.jobs.leasedBy(principal.tenantId, row.job_id, principal.id);
    if (wrap.consumed_at) throw new WrapConsumedError();
    if (!principal.agent?.publicKey) throw new InvalidTargetError('Register an X25519 public key before taking patch jobs.');
    const value = await envelopeDecrypt(this.kms, sealedValue(wrap), wrapContext(wrap.tenant_id, wrap.id));
    const sealed = sealToPublicKey(fromB64(principal.agent.publicKey, 32), value);
    value.fill(0);
    await this.wraps.consumeWrap(principal.tenantId, wrapId);
    await this.audit.record({ action: 'wrap.delivered', resourceType: 'wrap', resourceId: wrapId, payload: { request_id: row.id, job_id: row.job_id } });
    return sealed;
  }
}

function b64(value: string, field: string, length?: number): Buffer {
  try {
    return fromB64(value, length);
  } catch {
    throw new RequestFieldError(field, length ? `must be ${length} bytes, base64-encoded` : 'must be base64');
  }
}
