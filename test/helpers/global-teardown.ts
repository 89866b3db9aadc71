import * as fs from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__COUNTERSIGN_TEST_PG__;
  if (!state) return;
  globalThis.__COUNTERSIGN_TEST_PG__ = undefined;
  if (state.embedded) {
    await state.embedded.stop();
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
    return;
  }
  const admin = new Client({ connectionString: state.adminUrl });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
    [state.template, `cs_t_${process.pid}_%`],
  );
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await admin.end();
}
