import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** A plain pg client on this database (for assertions that must bypass the app). */
  client(): Promise<Client>;
  drop(): Promise<void>;
}

/** A fresh database for one test file, copied from the migrated template (milliseconds, not a migration run). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.CS_TEST_ADMIN_URL;
  const template = process.env.CS_TEST_TEMPLATE_DB;
  if (!adminUrl || !template) throw new Error('test database server not set up (globalSetup did not run)');
  const ppid = process.ppid;
  const name = `cs_t_${ppid}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        // Two files copying the template at the same instant can collide; a short retry settles it.
        if (attempt >= 10 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  return {
    name,
    url,
    async client() {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    },
    async drop() {
      const a = new Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
