import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase } from '../../src/common/db/embedded-postgres';
import { runMigrations } from '../../src/common/db/migration-runner';
import { withDatabase } from './test-database';

declare global {
  var __COUNTERSIGN_TEST_PG__: { embedded?: EmbeddedDatabase; dir?: string; template: string; adminUrl: string } | undefined;
}

/**
 * Once per run: a PostgreSQL (embedded in a temp folder unless DATABASE_URL names one), a template database with every
 * migration applied, and the settings every test app uses. Workers inherit the environment set here.
 */
export default async function globalSetup(): Promise<void> {
  if (globalThis.__COUNTERSIGN_TEST_PG__) return; // both database projects share one server

  let adminUrl = process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-test-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    embedded = await EmbeddedDatabase.start({ clusterDir: path.join(dir, 'pg'), port, database: 'postgres' });
    adminUrl = embedded.adminUrl;
  }

  const template = `cs_template_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  await runMigrations(withDatabase(adminUrl, template));

  globalThis.__COUNTERSIGN_TEST_PG__ = { embedded, dir, template, adminUrl };
  Object.assign(process.env, {
    CS_TEST_ADMIN_URL: adminUrl,
    CS_TEST_TEMPLATE_DB: template,
    NODE_ENV: 'test',
    BCRYPT_COST: '4',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    KMS_MASTER_KEY: randomBytes(32).toString('base64'),
    API_KEY_PEPPER: randomBytes(32).toString('base64url'),
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
  });
}
