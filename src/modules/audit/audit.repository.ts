import { Injectable } from '@nestjs/common';
import { BaseRepository } from '../../common/db/base.repository';
import { AuditCheckpointRow, AuditEventRow, AuditSealRow } from './audit-event.entity';
import { TenantId } from '../../common/db/tenant-id';

export interface AuditFilter {
  actor?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  correlationId?: string;
  requestId?: string;
  since?: Date;
  until?: Date;
}

/** Every column of an event but the sealer's `txid` (the compiler checks each against the row type). */
const COLUMN_LIST = [
  'id',
  'occurred_at',
  'tenant_id',
  'actor_type',
  'actor_id',
  'actor_label',
  'action',
  'resource_type',
  'resource_id',
  'outcome',
  'request_id',
  'correlation_id',
  'ip',
  'user_agent',
  'payload',
] as const satisfies readonly (keyof AuditEventRow)[];
const COLUMNS = COLUMN_LIST.join(', ');

@Injectable()
export class AuditRepository extends BaseRepository {
  async insert(e: AuditEventRow): Promise<void> {
    await this.rows(
      `INSERT INTO audit_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        e.id,
        e.occurred_at,
        e.tenant_id,
        e.actor_type,
        e.actor_id,
        e.actor_label,
        e.action,
        e.resource_type,
        e.resource_id,
        e.outcome,
        e.request_id,
        e.correlation_id,
        e.ip,
        e.user_agent,
        JSON.stringify(e.payload),
      ],
    );
  }

  /** Several events in one statement (e.g. a batch of jobs claimed): one round trip instead of one per event. */
  async insertMany(events: readonly AuditEventRow[]): Promise<void> {
    // 1,000 rows × 15 columns stays far below PostgreSQL's 65,535 parameters per statement.
    for (let start = 0; start < events.length; start += 1000) {
      const chunk = events.slice(start, start + 1000);
      const tuples = chunk.map((_, row) => `(${COLUMN_LIST.map((__, col) => `$${row * COLUMN_LIST.length + col + 1}`).join(', ')})`);
      const values = chunk.flatMap((e) => COLUMN_LIST.map((col) => (col === 'payload' ? JSON.stringify(e.payload) : e[col])));
      await this.rows(`INSERT INTO audit_events (${COLUMNS}) VALUES ${tuples.join(', ')}`, values);
    }
  }

  /** Newest first, keyset on the id (`before` = the last id of the previous page). */
  list(tenantId: TenantId, f: AuditFilter, before: string | undefined, limit: number): Promise<AuditEventRow[]> {
    return this.rows<AuditEventRow>(
      `SELECT ${COLUMNS} FROM audit_events
        WHERE tenant_id = $1
          AND ($2::text IS NULL OR actor_id = $2 OR actor_label = $2)
          AND ($3::text IS NULL OR action = $3)
          AND ($4::text IS NULL OR resource_type = $4)
          AND ($5::text IS NULL OR resource_id = $5)
          AND ($6::text IS NULL OR correlation_id = $6)
          AND ($7::text IS NULL OR request_id = $7)
          AND ($8::timestamptz IS NULL OR occurred_at >= $8)
          AND ($9::timestamptz IS NULL OR occurred_at < $9)
          AND ($10::text IS NULL OR id < $10)
        ORDER BY id DESC LIMIT $11`,
      [tenantId, f.actor ?? null, f.action ?? null, f.resourceType ?? null, f.resourceId ?? null, f.correlationId ?? null, f.requestId ?? null, f.since ?? null, f.until ?? null, before ?? null, limit],
    );
  }

  find(tenantId: TenantId, id: string): Promise<AuditEventRow | undefined> {
    return this.findOneInTenant<AuditEventRow>('audit_events', tenantId, id, { columns: COLUMN_LIST });
  }

  /**
   * Events no open transaction can still add to (txid below the snapshot's xmin) and not yet sealed, oldest first, with
   * that xmin read in the same statement: an xmin read by a later statement could be above a transaction that
   * committed in between, and the watermark would skip its events for ever. A visible event whose txid is at or above
   * the snapshot's xmax was not written by this cluster (a dump restored into a cluster whose transaction counter is
   * lower): it is committed, so it is sealable as well, instead of waiting until the counter catches up.
   */
  async sealable(fromXid: string, limit: number): Promise<{ xmin: string; events: AuditEventRow[] }> {
    const rows = await this.rows<AuditEventRow & { snapshot_xmin: string }>(
      `WITH snap AS (SELECT pg_snapshot_xmin(s) AS xmin, pg_snapshot_xmax(s) AS xmax FROM pg_current_snapshot() s)
       SELECT snap.xmin::text AS snapshot_xmin, e.*
         FROM snap LEFT JOIN LATERAL (
           SELECT ${COLUMNS.split(',').map((c) => `ev.${c.trim()}`).join(', ')}
             FROM audit_events ev LEFT JOIN audit_seals s ON s.event_id = ev.id
            WHERE s.event_id IS NULL AND ev.txid >= $1::xid8 AND (ev.txid < snap.xmin OR ev.txid >= snap.xmax)
            ORDER BY ev.id LIMIT $2
         ) e ON true`,
      [fromXid, limit],
    );
    const xmin = rows[0].snapshot_xmin;
    const events = rows.filter((r) => r.id !== null).map(({ snapshot_xmin: _, ...event }) => event as AuditEventRow);
    return { xmin, events };
  }

  /** The last seal of a chain. Ordered by the bigint column (the text alias would sort '9' above '21'). */
  chainHead(chain: string): Promise<{ seq: string; hash: string } | undefined> {
    return this.one<{ head_seq: string; hash: string }>(
      `SELECT s.seq::text AS head_seq, s.hash FROM audit_seals s WHERE s.chain = $1 ORDER BY s.seq DESC LIMIT 1`,
      [chain],
    ).then((r) => (r ? { seq: r.head_seq, hash: r.hash } : undefined));
  }

  /** Serialises writers of the chains until the transaction ends. */
  async lockChains(key: number): Promise<void> {
    await this.rows('SELECT pg_advisory_xact_lock($1)', [key]);
  }

  /** Events not yet sealed (all tenants) among transactions at or above `fromXid`: the sealer's lag. */
  unsealedCount(fromXid: string): Promise<number> {
    return this.one<{ n: string }>(
      `SELECT count(*)::text AS n FROM audit_events e WHERE e.txid >= $1::xid8 AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)`,
      [fromXid],
    ).then((r) => Number(r?.n ?? 0));
  }

  /** A tenant's events not yet sealed, and the oldest one's time. */
  unsealedOf(tenantId: TenantId): Promise<{ count: number; oldest: Date | null }> {
    return this.one<{ n: string; oldest: Date | null }>(
      `SELECT count(*)::text AS n, min(e.occurred_at) AS oldest FROM audit_events e
        WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)`,
      [tenantId],
    ).then((r) => ({ count: Number(r?.n ?? 0), oldest: r?.oldest ?? null }));
  }

  async insertSeals(seals: { event_id: string; chain: string; seq: number; prev_hash: string; hash: string }[]): Promise<void> {
    await this.rows(
      `INSERT INTO audit_seals (event_id, chain, seq, prev_hash, hash)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])`,
      [seals.map((s) => s.event_id), seals.map((s) => s.chain), seals.map((s) => s.seq), seals.map((s) => s.prev_hash), seals.map((s) => s.hash)],
    );
  }

  async insertCheckpoint(c: { chain: string; seq: number | string; last_event_id: string; hash: string; signature: string; key_id: string }): Promise<void> {
    await this.rows(`INSERT INTO audit_checkpoints (chain, seq, last_event_id, hash, signature, key_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
      c.chain,
      c.seq,
      c.last_event_id,
      c.hash,
      c.signature,
      c.key_id,
    ]);
  }

  /** The chain in seal order with its events (null event = deleted behind the triggers' back). */
  sealsPage(chain: string, afterSeq: number, limit: number): Promise<(AuditSealRow & { event: AuditEventRow | null })[]> {
    return this.rows(
      `SELECT s.event_id, s.chain, s.seq::text AS seq, s.prev_hash, s.hash,
              CASE WHEN e.id IS NULL THEN NULL ELSE row_to_json(e.*) END AS event
         FROM audit_seals s LEFT JOIN (SELECT ${COLUMNS} FROM audit_events) e ON e.id = s.event_id
        WHERE s.chain = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`,
      [chain, afterSeq, limit],
    );
  }

  checkpoints(chain: string, beforeId: string | undefined, limit: number): Promise<AuditCheckpointRow[]> {
    return this.rows<AuditCheckpointRow>(
      // Ordered by the bigint column: the text output column `id` would sort '9' above '10'.
      `SELECT c.id::text, c.chain, c.seq::text, c.last_event_id, c.hash, c.signature, c.key_id, c.created_at FROM audit_checkpoints c
        WHERE c.chain = $1 AND ($2::bigint IS NULL OR c.id < $2) ORDER BY c.id DESC LIMIT $3`,
      [chain, beforeId ?? null, limit],
    );
  }

  /**
   * The latest checkpoint of every chain (all tenants) unless `keyId` signed it: the ones to sign again after a key
   * rotation. Walks the (chain, id) index chain by chain rather than reading every checkpoint.
   */
  latestCheckpointsNotSignedBy(keyId: string): Promise<AuditCheckpointRow[]> {
    return this.rows<AuditCheckpointRow>(
      `WITH RECURSIVE chains AS (
         (SELECT chain FROM audit_checkpoints ORDER BY chain LIMIT 1)
         UNION ALL
         SELECT (SELECT a.chain FROM audit_checkpoints a WHERE a.chain > c.chain ORDER BY a.chain LIMIT 1) FROM chains c WHERE c.chain IS NOT NULL
       )
       SELECT l.* FROM chains c CROSS JOIN LATERAL (
         SELECT k.id::text, k.chain, k.seq::text, k.last_event_id, k.hash, k.signature, k.key_id, k.created_at FROM audit_checkpoints k
          WHERE k.chain = c.chain ORDER BY k.id DESC LIMIT 1
       ) l
        WHERE c.chain IS NOT NULL AND l.key_id IS DISTINCT FROM $1`,
      [keyId],
    );
  }

  latestCheckpoint(chain: string): Promise<AuditCheckpointRow | undefined> {
    return this.checkpoints(chain, undefined, 1).then((r) => r[0]);
  }
}
