import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { GENERATED_PATH, readColumns, renderSchema } from '../../scripts/lib/row-types';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

/** `table.column` → `type` of every interface member in a rendered schema file. */
function columnsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let table: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^export interface (\w+)Table \{$/.exec(line);
    // `AgentEnrollmentTokens` → `agent_enrollment_tokens`: messages name the table.
    if (open) table = open[1].replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase();
    else if (line === '}') table = undefined;
    else if (table) {
      const member = /^ {2}(\w+): (.+);$/.exec(line);
      if (member) out.set(`${table}.${member[1]}`, member[2]);
    }
  }
  return out;
}

/** What differs between the committed file and the migrated schema, one line per column. */
function drift(committed: string, migrated: string): string[] {
  const want = columnsOf(migrated);
  const have = columnsOf(committed);
  const lines: string[] = [];
  for (const [column, type] of want) {
    if (!have.has(column)) lines.push(`${column}: in the schema (${type}), missing from the row types`);
    else if (have.get(column) !== type) lines.push(`${column}: the schema says ${type}, the row types say ${have.get(column)}`);
  }
  for (const [column, type] of have) if (!want.has(column)) lines.push(`${column}: in the row types (${type}), not in the schema`);
  return lines;
}

describe('row types (src/common/db/schema.generated.ts)', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    // The copied template holds every migration (the harness applied them with the migration runner).
    db = await createTestDatabase();
    client = await db.client();
  });

  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('match the migrated schema: every table and column, its type and its nullability', async () => {
    const migrated = renderSchema(await readColumns(client));
    const committed = fs.readFileSync(path.join(__dirname, '../..', GENERATED_PATH), 'utf8');
    const differences = drift(committed, migrated);
    if (differences.length) {
      throw new Error(`${GENERATED_PATH} has drifted from the migrations (run node scripts/generate-row-types.js and fix what no longer compiles):\n  ${differences.join('\n  ')}`);
    }
    // Table order, enum values from CHECK constraints, the header: the rest of the file is generated too.
    expect(committed).toBe(migrated);
  });

  it('know the types of columns the schema holds (literal unions from CHECK constraints, int8 as string, arrays)', async () => {
    const columns = columnsOf(renderSchema(await readColumns(client)));
    expect(columns.get('jobs.status')).toBe("'queued' | 'leased' | 'succeeded' | 'failed' | 'dead'");
    expect(columns.get('jobs.result')).toBe('Jsonb | null');
    expect(columns.get('audit_seals.seq')).toBe('string');
    expect(columns.get('agents.capabilities')).toBe('string[]');
    expect(columns.get('agents.revoked_at')).toBe('Date | null');
  });
});
