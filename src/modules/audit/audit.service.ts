import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { Readable } from 'node:stream';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { isoRequired } from '../../common/api/time';
import { AuditActor, AuditInput, AuditSink } from '../../common/audit/audit.types';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { RequestContextStore } from '../../common/context/request-context';
import { newId } from '../../common/crypto/ids';
import { ExclusiveRunner, LOCKS } from '../../common/db/exclusive-runner';
import { MetricsService } from '../../common/observability/metrics.service';
import { InvalidCursorError } from '../../common/errors/app-error';
import { redactDeep } from '../../common/observability/redact';
import { AppConfig } from '../../config/app-config';
import { chainHash, chainOf, checkpointMessage, GENESIS_HASH } from './audit-chain';
import { AuditEventRow } from './audit-event.entity';
import { toAuditEventDto } from './audit-event.mapper';
import { AuditNotFoundError } from './audit.errors';
import { AuditFilter, AuditRepository } from './audit.repository';
import { AuditSigner } from './audit-signer';
import { AuditCheckpointPageDto, AuditEventDto, AuditFilterQueryDto, AuditVerificationDto } from './dto/audit.dto';
import { TenantId } from '../../common/db/tenant-id';

const toFilter = (q: AuditFilterQueryDto): AuditFilter => ({
  actor: q.actor,
  action: q.action,
  resourceType: q.resource_type,
  resourceId: q.resource_id,
  correlationId: q.correlation_id,
  requestId: q.request_id,
  since: q.since,
  until: q.until,
});

const EXPORT_BATCH = 1000;
const SEALER_TASK = 'audit-sealer';
/** While previous signing keys are configured, how often the sealer looks for latest checkpoints to sign again. */
const RESIGN_INTERVAL_MS = 60_000;

export type ChainBrokenListener = (tenantId: TenantId, finding: { checked: number; first_invalid_id: string | null }) => Promise<void>;

@Injectable()
export class AuditService implements AuditSink, OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Every event of a transaction at or above this xid may still be unsealed (see `sealPending`). */
  private sealWatermark = '0';
  /** Set when shutdown begins: a long backlog stops between batches (the next replica or start carries on). */
  private stopping = false;
  /** When this process last signed the chains' latest checkpoints again under the current key (see `resignCheckpoints`). */
  private lastResignAt = 0;

  constructor(
    private readonly repo: AuditRepository,
    private readonly metrics: MetricsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService<RequestContextStore>,
    private readonly signer: AuditSigner,
    private readonly runner: ExclusiveRunner,
    private readonly config: AppConfig,
  ) {}

  private readonly chainBrokenListeners: ChainBrokenListener[] = [];

  /** Told when a verification finds a tenant's chain broken (the webhooks module announces `audit.chain_broken`). */
  onChainBroken(listener: ChainBrokenListener): void {
    this.chainBrokenListeners.push(listener);
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  onApplicationBootstrap(): void {
    this.runner.every(SEALER_TASK, LOCKS.auditSealer, this.config.auditSealIntervalMs, async () => {
      // During a rotation: on the first run, then every minute (replicas still on the previous key may have written
      // checkpoints with it until the roll finished).
      if (this.signer.rotating && Date.now() - this.lastResignAt >= RESIGN_INTERVAL_MS) {
        await this.resignCheckpoints();
        this.lastResignAt = Date.now();
      }
      await this.sealPending();
    });
  }

  /**
   * Writes the event in the caller's transaction (the unit of work): it commits with the change it describes, and if
   * it cannot be written the whole call fails.
   */
  async record(input: AuditInput): Promise<void> {
    await this.repo.insert(this.toRow(input));
    // Tells the audit interceptor that the route's event is written (it shares this Set across nested transactions).
    if (this.cls.isActive()) this.cls.get('auditedActions')?.add(input.action);
  }

  /** `record` for several events at once, in one statement (same transaction rule). */
  async recordMany(inputs: readonly AuditInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.repo.insertMany(inputs.map((input) => this.toRow(input)));
    if (this.cls.isActive()) for (const input of inputs) this.cls.get('auditedActions')?.add(input.action);
  }

  /** Writes the event in a transaction of its own, for outcomes whose request rolls back (failed logins, denials). */
  async recordDetached(input: AuditInput): Promise<void> {
    const row = this.toRow(input);
    await this.txHost.withTransaction(Propagation.RequiresNew, () => this.repo.insert(row));
  }

  async list(principal: Principal, query: AuditFilterQueryDto): Promise<Page<AuditEventDto>> {
    requireTenantPermission(principal, 'audit.read');
    const page = toPageRequest(query);
    // Newest first: the cursor is the last id of the page and the next page reads below it.
    return toPage(await this.repo.list(principal.tenantId, toFilter(query), page.after, page.limit + 1), page, toAuditEventDto);
  }

  async get(principal: Principal, id: string): Promise<AuditEventDto> {
    requireTenantPermission(principal, 'audit.read');
    const row = await this.repo.find(principal.tenantId, id);
    if (!row) throw new AuditNotFoundError(id);
    return toAuditEventDto(row);
  }

  /** A resource's history, oldest first (e.g. a request's timeline). */
  async timeline(tenantId: TenantId, resourceType: string, resourceId: string): Promise<{ at: string; action: string; actor_id: string | null; actor_label: string | null }[]> {
    const rows = await this.repo.list(tenantId, { resourceType, resourceId }, undefined, 500);
    return rows.reverse().map((e) => ({ at: isoRequired(e.occurred_at), action: e.action, actor_id: e.actor_id, actor_label: e.actor_label }));
  }

  /** NDJSON of the filtered events, newest first, fetched in keyset batches: memory stays flat for any size. */
  export(principal: Principal, query: AuditFilterQueryDto): Readable {
    requireTenantPermission(principal, 'audit.read');
    const filter = toFilter(query);
    const repo = this.repo;
    async function* lines(): AsyncGenerator<string> {
      let before: string | undefined;
      for (;;) {
        const rows = await repo.list(principal.tenantId, filter, before, EXPORT_BATCH);
        if (rows.length === 0) return;
        yield rows.map((r) => JSON.stringify(toAuditEventDto(r))).join('\n') + '\n';
        if (rows.length < EXPORT_BATCH) return;
        before = rows[rows.length - 1].id;
      }
    }
    return Readable.from(lines(), { objectMode: false, highWaterMark: 1 });
  }

  /**
   * Extends every chain with the events that no open transaction can still precede (txid below the snapshot's xmin),
   * in id order, and signs a checkpoint per chain. Runs on one replica (advisory lock); the request path takes no lock.
   */
  async sealPending(): Promise<number> {
    const batchSize = this.config.auditSealBatchSize;
    let sealed = 0;
    for (;;) {
      const batch = await this.txHost.withTransaction(async () => {
        // One chain writer at a time, whoever calls (the scheduled sealer holds a session lock of its own as well).
        await this.repo.lockChains(LOCKS.auditChainWrite);
        const { xmin, events } = await this.repo.sealable(this.sealWatermark, batchSize);
        const byChain = new Map<string, AuditEventRow[]>();
        for (const e of events) {
          const chain = chainOf(e.tenant_id);
          const chainEvents = byChain.get(chain);
          if (chainEvents) chainEvents.push(e);
          else byChain.set(chain, [e]);
        }
        for (const [chain, chainEvents] of byChain) {
          const head = await this.repo.chainHead(chain);
          let prev = head?.hash ?? GENESIS_HASH;
          let seq = Number(head?.seq ?? 0);
          const seals = chainEvents.map((e) => {
            const hash = chainHash(prev, e);
            const seal = { event_id: e.id, chain, seq: ++seq, prev_hash: prev, hash };
            prev = hash;
            return seal;
          });
          await this.repo.insertSeals(seals);
          const last = seals[seals.length - 1];
          await this.repo.insertCheckpoint({
            chain,
            seq: last.seq,
            last_event_id: last.event_id,
            hash: last.hash,
            signature: this.signer.sign(checkpointMessage(chain, last.seq, last.event_id, last.hash)),
            key_id: this.signer.keyId,
          });
        }
        return { count: events.length, xmin };
      });
      sealed += batch.count;
      if (this.stopping && batch.count === batchSize) return sealed;
      if (batch.count < batchSize) {
        this.sealWatermark = batch.xmin;
        const unsealed = await this.repo.unsealedCount(this.sealWatermark);
        this.metrics.auditUnsealed.set(unsealed);
        this.runner.reportBacklog(SEALER_TASK, unsealed);
        return sealed;
      }
    }
  }

  /**
   * After AUDIT_SIGNING_KEY is rotated, signs again (with the new key) the latest checkpoint of every chain that a
   * previous key signed, so that the previous key can be dropped even for tenants with no new events. A checkpoint whose
   * signature no trusted key confirms is left as it is, for `verify` to report. Returns how many were signed again.
   */
  async resignCheckpoints(): Promise<number> {
    if (!this.signer.rotating) return 0;
    return this.txHost.withTransaction(async () => {
      await this.repo.lockChains(LOCKS.auditChainWrite);
      let resigned = 0;
      for (const c of await this.repo.latestCheckpointsNotSignedBy(this.signer.keyId)) {
        const message = checkpointMessage(c.chain, c.seq, c.last_event_id, c.hash);
        if (!this.signer.verify(message, c.signature, c.key_id)) continue;
        await this.repo.insertCheckpoint({ chain: c.chain, seq: c.seq, last_event_id: c.last_event_id, hash: c.hash, signature: this.signer.sign(message), key_id: this.signer.keyId });
        resigned++;
      }
      return resigned;
    });
  }

  /** Recomputes the caller's tenant chain and checks the latest signed checkpoint. */
  async verify(principal: Principal): Promise<AuditVerificationDto> {
    requireTenantPermission(principal, 'audit.read');
    const unsealed = await this.repo.unsealedOf(principal.tenantId);
    const lag = { unsealed: unsealed.count, oldest_unsealed_at: unsealed.oldest ? unsealed.oldest.toISOString() : null };
    const result = await this.verifyChain(principal.tenantId);
    if (!result.verified) {
      // A listener's failure must not hide the verification's answer.
      await Promise.allSettled(this.chainBrokenListeners.map((l) => l(principal.tenantId, { checked: result.checked, first_invalid_id: result.first_invalid_id })));
    }
    return { ...result, ...lag };
  }

  private async verifyChain(tenantId: string): Promise<Omit<AuditVerificationDto, 'unsealed' | 'oldest_unsealed_at'>> {
    const chain = chainOf(tenantId);
    let prev = GENESIS_HASH;
    let checked = 0;
    let afterSeq = 0;
    const hashAt = new Map<number, string>();
    const checkpoint = await this.repo.latestCheckpoint(chain);
    for (;;) {
      const page = await this.repo.sealsPage(chain, afterSeq, 2000);
      for (const seal of page) {
        const seq = Number(seal.seq);
        if (seq !== afterSeq + 1 || seal.prev_hash !== prev || !seal.event || chainHash(prev, seal.event) !== seal.hash) {
          return { verified: false, checked, first_invalid_id: seal.event_id };
        }
        checked++;
        prev = seal.hash;
        afterSeq = seq;
        if (checkpoint && seq === Number(checkpoint.seq)) hashAt.set(seq, seal.hash);
      }
      if (page.length < 2000) break;
    }
    if (checkpoint) {
      const signed = this.signer.verify(checkpointMessage(chain, checkpoint.seq, checkpoint.last_event_id, checkpoint.hash), checkpoint.signature, checkpoint.key_id);
      if (!signed || hashAt.get(Number(checkpoint.seq)) !== checkpoint.hash) return { verified: false, checked, first_invalid_id: checkpoint.last_event_id };
    }
    return { verified: true, checked, first_invalid_id: null };
  }

  async checkpoints(principal: Principal, query: { limit?: number; cursor?: string }): Promise<AuditCheckpointPageDto> {
    requireTenantPermission(principal, 'audit.read');
    const limit = query.limit ?? 50;
    let before: string | undefined;
    if (query.cursor) {
      before = Buffer.from(query.cursor, 'base64url').toString('utf8');
      if (!/^\d+$/.test(before)) throw new InvalidCursorError();
    }
    const rows = await this.repo.checkpoints(chainOf(principal.tenantId), before, limit + 1);
    const hasMore = rows.length > limit;
    const kept = rows.slice(0, limit);
    return {
      algorithm: 'Ed25519',
      ...this.signer.current(),
      keys: this.signer.trustedKeys(),
      data: kept.map((c) => ({ chain: c.chain, seq: Number(c.seq), last_event_id: c.last_event_id, hash: c.hash, signature: c.signature, key_id: c.key_id, created_at: isoRequired(c.created_at) })),
      pagination: { limit, next_cursor: hasMore ? Buffer.from(kept[kept.length - 1].id).toString('base64url') : null, has_more: hasMore },
    };
  }

  private toRow(input: AuditInput): AuditEventRow {
    const principal = this.cls.isActive() ? this.cls.get('principal') : undefined;
    const actor: AuditActor = input.actor ?? (principal ? { type: principal.type, id: principal.id, label: principal.label } : { type: 'anonymous', id: null, label: null });
    const ctx = this.cls.isActive() ? this.cls.get() : undefined;
    return {
      id: newId('audit'),
      occurred_at: new Date(),
      tenant_id: input.tenantId !== undefined ? input.tenantId : (principal?.tenantId ?? null),
      actor_type: actor.type,
      actor_id: actor.id,
      actor_label: actor.label,
      action: input.action,
      resource_type: input.resourceType,
      resource_id: input.resourceId ?? null,
      outcome: input.outcome ?? 'success',
      request_id: ctx?.requestId ?? null,
      correlation_id: ctx?.correlationId ?? null,
      ip: ctx?.ip ?? null,
      user_agent: ctx?.userAgent ?? null,
      payload: (redactDeep(input.payload ?? {}) as Record<string, unknown>) ?? {},
    };
  }
}
