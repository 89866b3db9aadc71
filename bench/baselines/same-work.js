'use strict';
/**
 * The work each scenario does, without the framework: the same credential checks (JWT verified with the app's key
 * and pinned algorithm/issuer/audience; API key HMAC with the app's pepper; agent secret SHA-256) and the same SQL
 * statements in the same transactions as the app, copied from its repositories (`node bench/capture-sql.js` prints
 * what the app runs, to check this file against). Like the app (PRINCIPAL_CACHE_TTL_MS, default 1 s), a resolved
 * principal is reused for BASELINE_PRINCIPAL_CACHE_MS (default 1000; 0 resolves on every request). Responses carry
 * the same fields, not byte-identical bodies. Used by raw-server.js (node:http) and express-server.js (Express 5).
 *
 * Each handler takes { method, path, params, query, headers, body } and resolves to { status, body }.
 */
const { createHash, createHmac, createSecretKey, randomBytes } = require('node:crypto');
const jwt = require('jsonwebtoken');
const { monotonicFactory } = require('ulid');

const ulid = monotonicFactory();
const newId = (prefix) => `${prefix}_${ulid()}`;

const SQL = {
  session: `SELECT s.id AS session_id, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
              t.id AS tenant_id, t.status AS tenant_status,
              u.id AS user_id, u.email, u.name, u.status AS user_status, u.is_platform_admin, m.status AS member_status
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
         LEFT JOIN tenant_members m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
        WHERE s.id = $1`,
  grants: `SELECT r.permissions, ur.scope_type, ur.scope_id, r.id AS role_id, r.name AS role_name, r.built_in, ur.id AS assignment_id,
              NULL::text AS group_id, NULL::text AS group_name
         FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id = $2
       UNION ALL
       SELECT r.permissions, ur.scope_type, ur.scope_id, r.id, r.name, r.built_in, ur.id, g.id, g.name
         FROM group_members gm
         JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
         JOIN user_roles ur ON ur.tenant_id = gm.tenant_id AND ur.group_id = gm.group_id
         JOIN roles r ON r.id = ur.role_id
        WHERE gm.tenant_id = $1 AND gm.user_id = $2`,
  groupsOf: `SELECT g.id, g.name, g.managed_by_provider_id FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
        WHERE gm.tenant_id = $1 AND gm.user_id = $2 ORDER BY g.id`,
  pluginPermissions: `SELECT unnest(permission_keys) AS key FROM plugins WHERE tenant_id = $1 AND enabled`,
  apiKey: `SELECT k.*, t.status AS tenant_status, m.status AS creator_member_status, u.is_platform_admin AS creator_is_platform_admin
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id JOIN users u ON u.id = k.created_by
         LEFT JOIN tenant_members m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by
        WHERE k.key_hash = ANY($1::text[])`,
  agent: `SELECT a.*, CASE WHEN w.status = 'deleted' THEN 'deleted' ELSE t.status END AS tenant_status
         FROM agents a JOIN tenants t ON t.id = a.tenant_id JOIN workspaces w ON w.id = a.workspace_id WHERE a.secret_hash = $1`,
  request: `SELECT * FROM requests WHERE tenant_id = $1 AND id = $2`,
  requestLock: `SELECT * FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
  approvals: `SELECT * FROM approvals WHERE tenant_id = $1 AND request_id = $2 ORDER BY id`,
  jobsOf: `SELECT * FROM jobs WHERE tenant_id = $1 AND owner_type = $2 AND owner_id = $3 ORDER BY id`,
  auditList: `SELECT id, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, resource_type, resource_id, outcome, request_id, correlation_id, ip, user_agent, payload FROM audit_events
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
  auditInsert: `INSERT INTO audit_events (id, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, resource_type, resource_id, outcome, request_id, correlation_id, ip, user_agent, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
  idemLock: `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked`,
  idemFind: `SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > now()`,
  idemInsert: `INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, headers, body, resource_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
         headers = EXCLUDED.headers, body = EXCLUDED.body, resource_id = EXCLUDED.resource_id, created_at = now(),
         expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= now()`,
  secret: `SELECT * FROM secrets WHERE tenant_id = $1 AND id = $2`,
  requestInsert: `INSERT INTO requests (id, tenant_id, type, title, reason, status, requester_id, workspace_id, environment_id, secret_id, target, access_duration_seconds)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
  environment: `SELECT e.* FROM environments e JOIN workspaces w ON w.id = e.workspace_id AND w.status <> 'deleted'
        WHERE e.tenant_id = $1 AND e.id = $2`,
  policies: `SELECT * FROM policies WHERE tenant_id = $1 AND enabled ORDER BY priority DESC, id`,
  webhooks: `SELECT * FROM webhooks WHERE tenant_id = $1 AND enabled ORDER BY id`,
  workflows: `SELECT * FROM workflows WHERE tenant_id = $1 AND built_in`,
  submit: `UPDATE requests SET submitted_at = $3, policy_decision = $4, workflow = $5, current_stage = $6, status = $7, approval_expires_at = $8, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
  candidates: `WITH candidates AS (
         SELECT DISTINCT user_id FROM user_roles WHERE tenant_id = $1 AND role_id = ANY($2::text[])
         UNION SELECT unnest($3::text[]))
       SELECT c.user_id, u.email, ur.role_id, ur.scope_type, ur.scope_id, r.permissions
         FROM candidates c
         JOIN tenant_members m ON m.tenant_id = $1 AND m.user_id = c.user_id AND m.status = 'active'
         JOIN users u ON u.id = c.user_id AND u.status = 'active'
         LEFT JOIN user_roles ur ON ur.tenant_id = $1 AND ur.user_id = c.user_id
         LEFT JOIN roles r ON r.id = ur.role_id
        ORDER BY c.user_id`,
  approvalInsert: `INSERT INTO approvals (id, tenant_id, request_id, stage, approver_id, decision, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (request_id, stage, approver_id) DO NOTHING RETURNING *`,
  decide: `UPDATE requests SET status = $3, decided_at = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
  jobInsert: `INSERT INTO jobs (id, tenant_id, workspace_id, environment_id, capability, target_agent_id, requires_public_key, type, payload, max_attempts, plugin_id, owner_type, owner_id, correlation_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
  notify: `SELECT pg_notify($1, $2)`,
  executing: `UPDATE requests SET status = $3, job_id = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
  workspace: `SELECT * FROM workspaces WHERE tenant_id = $1 AND id = $2`,
  member: `SELECT u.*, m.tenant_id, m.status AS member_status FROM tenant_members m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
  claim: `WITH locked AS (
         SELECT id FROM jobs
          WHERE tenant_id = $1 AND status = 'queued' AND workspace_id = $2
            AND (environment_id IS NULL OR $3::text IS NULL OR environment_id = $3)
            AND (target_agent_id = $4 OR (target_agent_id IS NULL AND capability = ANY($5::text[])))
            AND (NOT requires_public_key OR $6)
          ORDER BY id
          FOR UPDATE SKIP LOCKED
          LIMIT cardinality($7::text[])),
       numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM locked)
       UPDATE jobs j SET status = 'leased', agent_id = $4, attempt = j.attempt + 1, lease_token = ($7::text[])[numbered.n],
              lease_expires_at = now() + make_interval(secs => $8), updated_at = now()
         FROM numbered WHERE j.tenant_id = $1 AND j.id = numbered.id
       RETURNING j.*`,
  jobLock: `SELECT * FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
  jobComplete: `UPDATE jobs j SET status = v.status, result = v.result::jsonb, error = v.error, completed_lease_token = j.lease_token, lease_token = NULL,
              lease_expires_at = NULL, completed_at = now(), updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, status, result, error)
        WHERE j.tenant_id = $1 AND j.id = v.id
       RETURNING j.*`,
};

class HttpError extends Error {
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

const iso = (d) => (d ? new Date(d).toISOString() : null);

function createWork({ pool, jwtSecret, pepper, issuer = 'countersign', audience = 'countersign-api', cacheMs = 1000 }) {
  const jwtKey = createSecretKey(Buffer.from(jwtSecret, 'utf8'));
  const cache = new Map();

  async function cached(key, resolve) {
    const hit = cacheMs > 0 ? cache.get(key) : undefined;
    if (hit && hit.until > Date.now()) return hit.principal;
    const principal = await resolve();
    if (cacheMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(key, { principal, until: Date.now() + cacheMs });
    }
    return principal;
  }

  // Like PermissionCatalogService.needsExtraKeys: built-in owner/admin roles take the tenant's plugin permissions too.
  const needsPluginKeys = (grants) => grants.some((g) => g.built_in && (g.role_name === 'owner' || g.role_name === 'admin'));
  const holds = (p, permission) => p.grants.some((g) => g.permissions.includes(permission));

  async function principalOf(headers) {
    const authz = headers.authorization;
    if (authz && authz.startsWith('Bearer ')) {
      let claims;
      try {
        claims = jwt.verify(authz.slice(7), jwtKey, { algorithms: ['HS256'], issuer, audience, clockTolerance: 0 });
      } catch {
        throw new HttpError(401, 'INVALID_CREDENTIALS');
      }
      return cached(`s|${claims.sid}|${claims.sub}|${claims.tid}`, async () => {
        const { rows: [s] } = await pool.query(SQL.session, [claims.sid]);
        if (!s || s.session_revoked_at || s.tenant_status !== 'active' || s.user_status !== 'active') throw new HttpError(401, 'INVALID_CREDENTIALS');
        const { rows: grants } = await pool.query(SQL.grants, [s.tenant_id, s.user_id]);
        if (needsPluginKeys(grants)) await pool.query(SQL.pluginPermissions, [s.tenant_id]);
        return { type: 'user', id: s.user_id, userId: s.user_id, label: s.email, tenantId: s.tenant_id, grants };
      });
    }
    const key = headers['x-api-key'];
    if (key) {
      return cached(`k|${key}`, async () => {
        const hash = createHmac('sha256', pepper).update(key).digest('hex');
        const { rows: [k] } = await pool.query(SQL.apiKey, [[hash]]);
        if (!k || k.revoked_at) throw new HttpError(401, 'INVALID_CREDENTIALS');
        const { rows: creatorGrants } = await pool.query(SQL.grants, [k.tenant_id, k.created_by]);
        if (needsPluginKeys(creatorGrants)) await pool.query(SQL.pluginPermissions, [k.tenant_id]);
        const grants = [{ permissions: k.permissions, scope_type: 'tenant', scope_id: k.tenant_id, creator: creatorGrants.length }];
        return { type: 'api_key', id: k.id, userId: k.created_by, label: k.name, tenantId: k.tenant_id, grants };
      });
    }
    throw new HttpError(401, 'INVALID_CREDENTIALS');
  }

  async function agentOf(agentId, headers) {
    const secret = headers['x-agent-secret'];
    if (!secret) throw new HttpError(401, 'INVALID_CREDENTIALS');
    return cached(`a|${agentId}|${secret}`, async () => {
      const { rows: [a] } = await pool.query(SQL.agent, [createHash('sha256').update(secret).digest('hex')]);
      if (!a || a.id !== agentId || a.revoked_at) throw new HttpError(403, 'FORBIDDEN');
      return { type: 'agent', id: a.id, label: a.name, tenantId: a.tenant_id, workspaceId: a.workspace_id, environmentId: a.environment_id, capabilities: a.capabilities, hasKey: Boolean(a.public_key) };
    });
  }

  const audit = (db, p, action, resourceType, resourceId, correlationId, payload) =>
    db.query(SQL.auditInsert, [newId('aud'), new Date(), p.tenantId, p.type, p.id, p.label, action, resourceType, resourceId, 'success', correlationId, correlationId, '127.0.0.1', 'bench', JSON.stringify(payload)]);

  async function inTransaction(work) {
    const db = await pool.connect();
    try {
      await db.query('START TRANSACTION');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      db.release();
    }
  }

  /** The request detail the app answers: the row, its approvals, its job, its timeline. */
  async function detail(db, tenantId, row) {
    const { rows: approvals } = await db.query(SQL.approvals, [tenantId, row.id]);
    const { rows: jobs } = await db.query(SQL.jobsOf, [tenantId, 'request', row.id]);
    const { rows: events } = await db.query(SQL.auditList, [tenantId, null, null, 'request', row.id, null, null, null, null, null, 500]);
    return {
      ...row,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
      approvals: approvals.map((a) => ({ id: a.id, stage: a.stage, approver_id: a.approver_id, decision: a.decision, comment: a.comment, created_at: iso(a.created_at) })),
      job_id: jobs.length ? jobs[jobs.length - 1].id : null,
      timeline: events.reverse().map((e) => ({ at: iso(e.occurred_at), action: e.action, actor_id: e.actor_id, actor_label: e.actor_label })),
    };
  }

  const correlation = () => randomBytes(16).toString('hex');

  return {
    /** GET /hello: the healthz of a bare server (no database). */
    async hello() {
      return { status: 200, body: { status: 'ok' } };
    },

    /** S1 / S1b: GET /api/v1/requests/:id. */
    async getRequest({ params, headers }) {
      const p = await principalOf(headers);
      const { rows: [row] } = await pool.query(SQL.request, [p.tenantId, params.id]);
      if (!row || (row.requester_id !== p.userId && !holds(p, 'request.read_all'))) throw new HttpError(404, 'NOT_FOUND');
      return { status: 200, body: await detail(pool, p.tenantId, row) };
    },

    /** S2: POST /api/v1/requests (Idempotency-Key optional), submitted at once: policies, default workflow. */
    async createRequest({ headers, body }) {
      const p = await principalOf(headers);
      if (!holds(p, 'request.create')) throw new HttpError(403, 'PERMISSION_DENIED');
      const idemKey = headers['idempotency-key'];
      const scope = `${p.tenantId}:${p.type}:${p.id}`;
      const cid = correlation();
      return inTransaction(async (db) => {
        if (idemKey) {
          await db.query(SQL.idemLock, [scope, idemKey]);
          const { rows: [seen] } = await db.query(SQL.idemFind, [scope, idemKey]);
          if (seen) return { status: seen.status_code, body: JSON.parse(seen.body) };
        }
        const { rows: [secret] } = await db.query(SQL.secret, [p.tenantId, body.secret_id]);
        if (!secret) throw new HttpError(422, 'INVALID_TARGET');
        const { rows: [draft] } = await db.query(SQL.requestInsert, [newId('req'), p.tenantId, body.type, body.title, body.reason, 'draft', p.userId, secret.workspace_id, secret.environment_id, secret.id, null, 3600]);
        await audit(db, p, 'request.created', 'request', draft.id, cid, { type: draft.type, secret_id: secret.id, workspace_id: secret.workspace_id });
        await db.query(SQL.secret, [p.tenantId, secret.id]);
        await db.query(SQL.environment, [p.tenantId, secret.environment_id]);
        await db.query(SQL.grants, [p.tenantId, p.userId]);
        await db.query(SQL.groupsOf, [p.tenantId, p.userId]);
        const { rows: policies } = await db.query(SQL.policies, [p.tenantId]);
        const decision = { effect: 'require_approval', policy_id: null, explanation: [], workflow_id: null, evaluated: policies.length };
        await audit(db, p, 'request.submitted', 'request', draft.id, cid, { effect: decision.effect, policy_id: null });
        await db.query(SQL.webhooks, [p.tenantId]);
        const { rows: workflows } = await db.query(SQL.workflows, [p.tenantId]);
        const wf = workflows[0];
        const snapshot = { id: wf.id, name: wf.name, stages: wf.stages, version: wf.version };
        const { rows: [row] } = await db.query(SQL.submit, [p.tenantId, draft.id, new Date(), JSON.stringify(decision), JSON.stringify(snapshot), 0, 'pending_approval', new Date(Date.now() + 7 * 86_400_000)]);
        await db.query(SQL.approvals, [p.tenantId, row.id]);
        const roleIds = (wf.stages[0] && wf.stages[0].approver_role_ids) || [];
        await db.query(SQL.candidates, [p.tenantId, roleIds, []]);
        await db.query(SQL.webhooks, [p.tenantId]);
        const result = await detail(db, p.tenantId, row);
        if (idemKey) {
          const text = JSON.stringify(result);
          const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
          await db.query(SQL.idemInsert, [scope, idemKey, fingerprint, 201, JSON.stringify({ 'Content-Type': 'application/json; charset=utf-8' }), text, row.id, new Date(Date.now() + 86_400_000)]);
        }
        return { status: 201, body: result };
      });
    },

    /** S3: POST /api/v1/requests/:id/approve: one approval completes the stage; the job is enqueued. */
    async approve({ params, headers }) {
      const p = await principalOf(headers);
      if (!holds(p, 'request.approve')) throw new HttpError(403, 'PERMISSION_DENIED');
      const cid = correlation();
      return inTransaction(async (db) => {
        const { rows: [req] } = await db.query(SQL.requestLock, [p.tenantId, params.id]);
        if (!req) throw new HttpError(404, 'NOT_FOUND');
        if (req.status !== 'pending_approval') throw new HttpError(409, 'INVALID_STATE_TRANSITION');
        if (req.requester_id === p.userId) throw new HttpError(422, 'SELF_APPROVAL_FORBIDDEN');
        await db.query(SQL.grants, [p.tenantId, p.userId]);
        await db.query(SQL.groupsOf, [p.tenantId, p.userId]);
        const { rows: [approval] } = await db.query(SQL.approvalInsert, [newId('apr'), p.tenantId, req.id, req.current_stage ?? 0, p.userId, 'approved', null]);
        if (!approval) throw new HttpError(422, 'ALREADY_DECIDED');
        await audit(db, p, 'request.approval_given', 'request', req.id, cid, { stage: 0 });
        await db.query(SQL.approvals, [p.tenantId, req.id]);
        await db.query(SQL.decide, [p.tenantId, req.id, 'approved', new Date()]);
        await audit(db, p, 'request.approved', 'request', req.id, cid, {});
        await db.query(SQL.webhooks, [p.tenantId]);
        const { rows: [secret] } = await db.query(SQL.secret, [p.tenantId, req.secret_id]);
        const payload = { secret: { id: secret.id, ref: secret.ref, provider: secret.provider, cluster_name: secret.cluster_name }, request_id: req.id };
        const { rows: [job] } = await db.query(SQL.jobInsert, [newId('job'), p.tenantId, req.workspace_id, req.environment_id, secret.provider, null, false, req.type, JSON.stringify(payload), 3, null, 'request', req.id, cid, p.userId]);
        await db.query(SQL.notify, ['countersign_jobs', p.tenantId]);
        const { rows: [row] } = await db.query(SQL.executing, [p.tenantId, req.id, 'executing', job.id]);
        await audit(db, p, 'request.execution_started', 'request', req.id, cid, { job_id: job.id });
        return { status: 200, body: await detail(db, p.tenantId, row) };
      });
    },

    /** S5: POST /api/v1/authz/check (a user's permission on a workspace). */
    async authzCheck({ headers, body }) {
      const p = await principalOf(headers);
      if (!holds(p, 'authz.check')) throw new HttpError(403, 'PERMISSION_DENIED');
      const cid = correlation();
      return inTransaction(async (db) => {
        const { rows: [ws] } = await db.query(SQL.workspace, [p.tenantId, body.resource.id]);
        if (!ws) throw new HttpError(404, 'NOT_FOUND');
        await db.query(SQL.workspace, [p.tenantId, body.resource.id]);
        const { rows: [member] } = await db.query(SQL.member, [p.tenantId, body.principal.id]);
        if (!member) throw new HttpError(404, 'NOT_FOUND');
        const { rows: grants } = await db.query(SQL.grants, [p.tenantId, body.principal.id]);
        const allowed = grants.some((g) => g.permissions.includes(body.permission) && (g.scope_type === 'tenant' || g.scope_id === ws.id));
        await audit(db, p, 'authz.checked', body.resource.type, ws.id, cid, { principal: body.principal, permission: body.permission, allowed });
        return { status: 200, body: { allowed, reason: allowed ? 'granted by a role assignment' : 'no role grants it' } };
      });
    },

    /** S6: GET /api/v1/audit-events with filters and a keyset cursor. */
    async auditEvents({ headers, query }) {
      const p = await principalOf(headers);
      if (!holds(p, 'audit.read')) throw new HttpError(403, 'PERMISSION_DENIED');
      const limit = Number(query.limit || 50);
      const after = query.cursor ? JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')).k : null;
      const { rows } = await pool.query(SQL.auditList, [p.tenantId, query.actor ?? null, query.action ?? null, query.resource_type ?? null, query.resource_id ?? null, query.correlation_id ?? null, query.request_id ?? null, query.since ?? null, query.until ?? null, after, limit + 1]);
      const hasMore = rows.length > limit;
      const kept = hasMore ? rows.slice(0, limit) : rows;
      const data = kept.map((e) => ({ id: e.id, occurred_at: iso(e.occurred_at), tenant_id: e.tenant_id, actor: { type: e.actor_type, id: e.actor_id, label: e.actor_label }, action: e.action, resource_type: e.resource_type, resource_id: e.resource_id, outcome: e.outcome, request_id: e.request_id, correlation_id: e.correlation_id, ip: e.ip, user_agent: e.user_agent, payload: e.payload }));
      const nextCursor = hasMore ? Buffer.from(JSON.stringify({ k: kept[kept.length - 1].id })).toString('base64url') : null;
      return { status: 200, body: { data, pagination: { limit, next_cursor: nextCursor, has_more: hasMore } } };
    },

    /** S4: POST /api/v1/agents/:id/jobs/claim (no wait). */
    async claim({ params, headers }) {
      const a = await agentOf(params.id, headers);
      const token = randomBytes(24).toString('base64url');
      return inTransaction(async (db) => {
        const { rows: [job] } = await db.query(SQL.claim, [a.tenantId, a.workspaceId, a.environmentId, a.id, a.capabilities, a.hasKey, [token], 60]);
        if (!job) return { status: 204 };
        await audit(db, a, 'job.claimed', 'job', job.id, correlation(), { attempt: job.attempt });
        return { status: 200, body: { id: job.id, type: job.type, request_id: job.owner_type === 'request' ? job.owner_id : null, payload: job.payload, attempt: job.attempt, lease_token: token, lease_expires_at: iso(job.lease_expires_at) } };
      });
    },

    /** S4: POST /api/v1/agents/:id/jobs/:job_id/complete. */
    async complete({ params, headers, body }) {
      const a = await agentOf(params.id, headers);
      return inTransaction(async (db) => {
        const { rows: [job] } = await db.query(SQL.jobLock, [a.tenantId, params.job_id]);
        if (!job) throw new HttpError(404, 'NOT_FOUND');
        if (job.status !== 'leased' || job.lease_token !== body.lease_token) throw new HttpError(409, 'LEASE_LOST');
        await db.query(SQL.jobComplete, [a.tenantId, [job.id], [body.status], [null], [body.error ?? null]]);
        await audit(db, a, `job.${body.status}`, 'job', job.id, correlation(), {});
        return { status: 204 };
      });
    },
  };
}

/** Routes shared by both baseline servers: [method, pattern, handler name]. */
const ROUTES = [
  ['GET', /^\/hello$/, 'hello', []],
  ['GET', /^\/api\/v1\/requests\/([^/?]+)$/, 'getRequest', ['id']],
  ['POST', /^\/api\/v1\/requests$/, 'createRequest', []],
  ['POST', /^\/api\/v1\/requests\/([^/?]+)\/approve$/, 'approve', ['id']],
  ['POST', /^\/api\/v1\/authz\/check$/, 'authzCheck', []],
  ['GET', /^\/api\/v1\/audit-events$/, 'auditEvents', []],
  ['POST', /^\/api\/v1\/agents\/([^/]+)\/jobs\/claim$/, 'claim', ['id']],
  ['POST', /^\/api\/v1\/agents\/([^/]+)\/jobs\/([^/]+)\/complete$/, 'complete', ['id', 'job_id']],
];

function workFromEnv(pool) {
  return createWork({ pool, jwtSecret: process.env.JWT_SECRET, pepper: process.env.API_KEY_PEPPER, cacheMs: Number(process.env.BASELINE_PRINCIPAL_CACHE_MS ?? 1000) });
}

module.exports = { createWork, workFromEnv, ROUTES, HttpError, SQL };
