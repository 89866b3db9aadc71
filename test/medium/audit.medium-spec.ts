import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Principal } from '../../src/common/auth/principal';
import { AuditService } from '../../src/modules/audit/audit.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { Member, MediumFixtures } from '../helpers/medium-fixtures';

const BATCH = 7;
const GENESIS = '0'.repeat(64);

interface SealRow {
  event_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
}

/**
 * The audit chain against a real database, with the schedule off and a small batch: the sealer chains each tenant's
 * events in order across many batches and never past a transaction still open; verification finds an edited and a
 * deleted event; reads never cross tenants (404), and need audit.read tenant-wide (403).
 */
describe('audit sealing and verification (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let audit: AuditService;
  let ownerA: Member;
  let ownerB: Member;
  let tenantA: string;
  let tenantB: string;
  let wsAuditor: Member; // auditor at a workspace of A only
  let requester: Member; // no audit.read

  const as = <T>(who: Member | Principal, fn: (p: Principal) => Promise<T>) => {
    const p = 'principal' in who ? who.principal : who;
    return m.as(p, () => fn(p));
  };
  const verify = (who: Member) => as(who, (p) => audit.verify(p));
  const eventsOf = async (tenantId: string) => (await m.sql.query(`SELECT id FROM audit_events WHERE tenant_id = $1 ORDER BY id`, [tenantId])).rows.map((r: { id: string }) => r.id);
  const sealsOf = async (chain: string): Promise<SealRow[]> =>
    (await m.sql.query(`SELECT event_id, seq::int AS seq, prev_hash, hash FROM audit_seals WHERE chain = $1 ORDER BY seq`, [chain])).rows;
  const unsealed = async () => (await m.sql.query(`SELECT count(*)::int AS n FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)`)).rows[0].n as number;
  /** Seals until nothing is left; another database's open transaction on the shared server can hold the horizon back a while. */
  const sealAll = async () => {
    let sealed = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      sealed += await audit.sealPending();
      if ((await unsealed()) === 0) return sealed;
      if (Date.now() > deadline) throw new Error(`still ${await unsealed()} unsealed events after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** Edits the table behind the append-only triggers' back, as a superuser with a deliberate session setting would. */
  const tamper = async (sql: string, params: unknown[]) => {
    const c = await m.db.client();
    try {
      await c.query(`SET session_replication_role = replica`);
      await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  const expectChainOf = (seals: SealRow[], events: string[]) => {
    expect(seals.map((s) => s.event_id)).toEqual(events); // every event once, in id order
    seals.forEach((s, i) => {
      expect(s.seq).toBe(i + 1);
      expect(s.prev_hash).toBe(i === 0 ? GENESIS : seals[i - 1].hash);
    });
  };

  beforeAll(async () => {
    m = await createMediumApp({ AUDIT_SEAL_BATCH_SIZE: String(BATCH) });
    f = new MediumFixtures(m);
    audit = m.get(AuditService);
    ({ owner: ownerA, tenantId: tenantA } = await f.tenant('acme'));
    ({ owner: ownerB, tenantId: tenantB } = await f.tenant('other'));
    const ws = await f.workspace(ownerA, 'ws-0');
    wsAuditor = await f.member(ownerA, 'ws-auditor@acme.example', [['auditor', 'workspace', ws]]);
    requester = await f.member(ownerA, 'requester@acme.example', [['requester', 'tenant', tenantA]]);
    // Interleaved events of both tenants, many batches' worth.
    for (let i = 1; i <= 12; i++) {
      await f.workspace(ownerA, `ws-${i}`);
      if (i % 3 === 0) await f.workspace(ownerB, `ws-${i}`);
    }
  });
  afterAll(() => m?.close());

  it('seals every tenant’s events in id order across many batches, one chain per tenant, with a signed checkpoint per batch', async () => {
    const eventsA = await eventsOf(tenantA);
    const eventsB = await eventsOf(tenantB);
    expect(eventsA.length).toBeGreaterThan(2 * BATCH);
    const before = await verify(ownerA);
    expect(before).toMatchObject({ verified: true, checked: 0, unsealed: eventsA.length });

    expect(await sealAll()).toBeGreaterThanOrEqual(eventsA.length + eventsB.length);
    expectChainOf(await sealsOf(tenantA), eventsA);
    expectChainOf(await sealsOf(tenantB), eventsB);

    // One checkpoint per batch that held the chain's events: several for A, the last one at its head.
    const checkpoints = await as(ownerA, (p) => audit.checkpoints(p, { limit: 100 }));
    expect(checkpoints.data.length).toBeGreaterThanOrEqual(Math.ceil(eventsA.length / BATCH));
    expect(checkpoints.data.every((c) => c.chain === tenantA)).toBe(true);
    const head = (await sealsOf(tenantA)).at(-1)!;
    expect(checkpoints.data[0]).toMatchObject({ seq: eventsA.length, last_event_id: head.event_id, hash: head.hash, signature: expect.any(String) });
    expect(new Set(checkpoints.data.map((c) => c.seq)).size).toBe(checkpoints.data.length); // each batch moved the head

    expect(await verify(ownerA)).toEqual({ verified: true, checked: eventsA.length, first_invalid_id: null, unsealed: 0, oldest_unsealed_at: null });
    expect(await verify(ownerB)).toMatchObject({ verified: true, checked: eventsB.length, unsealed: 0 });
  });

  it('never seals past a transaction still open: later commits wait, and the chain stays in id order once it ends', async () => {
    await sealAll();
    const sealedBefore = (await sealsOf(tenantA)).length;
    const txHost = m.app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost, { strict: false });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let recorded!: () => void;
    const written = new Promise<void>((r) => (recorded = r));
    // A slow unit of work: its event is written, its transaction stays open.
    const slow = as(ownerA, () =>
      txHost.withTransaction(async () => {
        await audit.record({ action: 'workspace.updated', resourceType: 'workspace', resourceId: 'wsp_slow', payload: { slow: true } });
        recorded();
        await gate;
      }),
    );
    try {
      await written;
      await f.workspace(ownerA, 'after-slow-1');
      await f.workspace(ownerA, 'after-slow-2');
      await audit.sealPending();
      // The two later events committed, but an open transaction older than them could still add an earlier id.
      expect((await sealsOf(tenantA)).length).toBe(sealedBefore);
      expect((await verify(ownerA)).unsealed).toBe(2);
    } finally {
      release();
      await slow;
    }
    await sealAll();
    const eventsA = await eventsOf(tenantA);
    expect(eventsA.length).toBe(sealedBefore + 3);
    expectChainOf(await sealsOf(tenantA), eventsA);
    expect(await verify(ownerA)).toMatchObject({ verified: true, checked: eventsA.length, unsealed: 0 });
  });

  it('verify finds an edited event (and the chain is whole again once it is put back); other tenants are unaffected', async () => {
    const seals = await sealsOf(tenantA);
    const victim = seals[Math.floor(seals.length / 2)].event_id;
    const original = (await m.sql.query(`SELECT action FROM audit_events WHERE id = $1`, [victim])).rows[0].action as string;
    await tamper(`UPDATE audit_events SET action = 'workspace.deleted' WHERE id = $1`, [victim]);
    try {
      expect(await verify(ownerA)).toMatchObject({ verified: false, first_invalid_id: victim, checked: Math.floor(seals.length / 2) });
      expect(await verify(ownerB)).toMatchObject({ verified: true, first_invalid_id: null });
    } finally {
      await tamper(`UPDATE audit_events SET action = $2 WHERE id = $1`, [victim, original]);
    }
    expect(await verify(ownerA)).toMatchObject({ verified: true, first_invalid_id: null, checked: seals.length });
  });

  it('cannot read another tenant’s events (404, never 403); audit is tenant-level (403 without audit.read tenant-wide)', async () => {
    const [eventB] = await eventsOf(tenantB);
    const [eventA] = await eventsOf(tenantA);
    await expectAppError(as(ownerA, (p) => audit.get(p, eventB)), 404, 'NOT_FOUND');
    await expectAppError(as(ownerB, (p) => audit.get(p, eventA)), 404, 'NOT_FOUND');
    expect((await as(ownerA, (p) => audit.get(p, eventA))).id).toBe(eventA);

    const listed = await as(ownerA, (p) => audit.list(p, { limit: 200 }));
    expect(listed.data.length).toBeGreaterThan(0);
    expect(listed.data.every((e) => e.tenant_id === tenantA)).toBe(true);
    expect(await as(ownerA, (p) => audit.list(p, { limit: 200, resource_id: eventB }))).toMatchObject({ data: [] });
    const exported = (await as(ownerA, async (p) => {
      let text = '';
      for await (const chunk of audit.export(p, {})) text += String(chunk);
      return text;
    }))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; tenant_id: string });
    expect(exported.length).toBe((await eventsOf(tenantA)).length);
    expect(exported.every((e) => e.tenant_id === tenantA)).toBe(true);
    expect((await as(ownerB, (p) => audit.checkpoints(p, { limit: 100 }))).data.every((c) => c.chain === tenantB)).toBe(true);

    await expectAppError(as(wsAuditor, (p) => audit.list(p, { limit: 10 })), 403, 'PERMISSION_DENIED');
    await expectAppError(as(wsAuditor, (p) => audit.verify(p)), 403, 'PERMISSION_DENIED');
    await expectAppError(as(requester, (p) => audit.get(p, eventA)), 403, 'PERMISSION_DENIED');
  });

  it('verify finds a deleted event (its seal stays, its event is gone); the other tenant’s chain still verifies', async () => {
    const seals = await sealsOf(tenantA);
    const victim = seals[3].event_id;
    await tamper(`DELETE FROM audit_events WHERE id = $1`, [victim]);
    expect(await verify(ownerA)).toMatchObject({ verified: false, first_invalid_id: victim, checked: 3 });
    expect(await verify(ownerB)).toMatchObject({ verified: true });
    await expectAppError(as(ownerA, (p) => audit.get(p, victim)), 404, 'NOT_FOUND');
  });
});
