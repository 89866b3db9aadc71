import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { ContractFileReport, contractReportDir } from './contract-recorder';

/** Sums the per-file contract tallies of this run (test/helpers/contract-recorder.ts) into one line. */
function reportContract(template: string): void {
  const dir = contractReportDir(template);
  if (!dir || !fs.existsSync(dir)) return;
  const reports = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ContractFileReport);
  const sum = (key: 'validated' | 'failed' | 'skippedNonJson' | 'unmatched' | 'meta') => reports.reduce((n, r) => n + r[key], 0);
  const failing = reports.filter((r) => r.failed > 0).map((r) => `${path.basename(r.file)} (${r.failed})`);
  process.stdout.write(
    `\ncontract: ${sum('validated')} responses validated, ${sum('failed')} undocumented` +
      ` (${sum('skippedNonJson')} non-JSON checked for status and media type, ${sum('unmatched')} unmatched paths answered with an ErrorEnvelope,` +
      ` ${sum('meta')} docs/openapi responses; ${reports.length} test files)${failing.length ? `; failing: ${failing.join(', ')}` : ''}\n`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__COUNTERSIGN_TEST_PG__;
  if (!state) return;
  reportContract(state.template);
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
