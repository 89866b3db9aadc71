'use strict';
/** GET /workspaces/:id on the baselines: one SELECT by primary key, the API's JSON shape. */
const SQL = 'SELECT id, tenant_id, slug, display_name, capabilities, status, created_at, updated_at FROM workspaces WHERE id = $1';

async function readWorkspace(pool, id) {
  const { rows: [w] } = await pool.query(SQL, [id]);
  if (!w) return { status: 404, body: { error: 'not found' } };
  return {
    status: 200,
    body: { id: w.id, tenant_id: w.tenant_id, slug: w.slug, display_name: w.display_name, capabilities: w.capabilities, status: w.status, created_at: w.created_at.toISOString(), updated_at: w.updated_at.toISOString() },
  };
}

module.exports = { readWorkspace };
