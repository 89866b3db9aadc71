import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { ContractValidator, RecordedResponse } from './contract-validator';

/**
 * Records every response the app sends in an e2e test file and checks it against the OpenAPI document the app builds
 * (see contract-validator.ts). `createTestApp` installs the middleware first in the pipeline and calls `assertClean`
 * from `close()`, so a response the document does not describe fails the test file; the per-file tally goes to a
 * JSON file that `global-teardown.ts` sums up for the run.
 */

export interface ContractCounts {
  validated: number;
  failed: number;
  skippedNonJson: number;
  unmatched: number;
  meta: number;
}

export interface ContractFileReport extends ContractCounts {
  file: string;
  failures: string[];
}

/** Where the per-file reports of this run go: one folder per run (the template database name is unique per run). */
export function contractReportDir(runId = process.env.CS_TEST_TEMPLATE_DB): string | undefined {
  return runId ? path.join(os.tmpdir(), 'countersign-contract', runId) : undefined;
}

/** Shared by every app of one test file (Jest gives each file its own module registry). */
const tally: ContractFileReport = { file: '', validated: 0, failed: 0, skippedNonJson: 0, unmatched: 0, meta: 0, failures: [] };
/** How many of `tally.failures` a `close()` has already thrown (each failure fails the file once). */
let reportedFailures = 0;

function currentTestFile(): string {
  const state = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.();
  return state?.testPath ?? 'unknown';
}

export class ContractRecorder {
  private validator: ContractValidator | undefined;
  private readonly pending: RecordedResponse[] = [];

  /** Express middleware: captures status, headers and body of every response as the app ends it. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as Response['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      const recorded: RecordedResponse = {
        method: req.method,
        path: (req.originalUrl ?? req.url).split('?')[0],
        status: res.statusCode,
        headers: res.getHeaders() as RecordedResponse['headers'],
        body: Buffer.concat(chunks),
      };
      this.record(recorded);
      return end(...args);
    }) as Response['end'];
    next();
  };

  /** Starts checking (responses recorded before the document exists are checked now). */
  use(validator: ContractValidator): void {
    this.validator = validator;
    for (const r of this.pending.splice(0)) this.record(r);
  }

  private record(res: RecordedResponse): void {
    if (!this.validator) {
      this.pending.push(res);
      return;
    }
    let outcome;
    try {
      outcome = this.validator.check(res);
    } catch (err) {
      outcome = { kind: 'failed' as const, operation: `${res.method} ${res.path}`, problems: [`the check threw: ${(err as Error).message}`] };
    }
    switch (outcome.kind) {
      case 'validated': tally.validated++; break;
      case 'non-json': tally.skippedNonJson++; break;
      case 'unmatched': tally.unmatched++; break;
      case 'meta': tally.meta++; break;
      case 'failed': {
        tally.failed++;
        const excerpt = res.body.length && res.body.length < 100_000 ? ` body: ${res.body.toString('utf8').slice(0, 300)}` : '';
        tally.failures.push(`${outcome.operation} → ${res.status} (${res.path}):\n    - ${outcome.problems.join('\n    - ')}\n   ${excerpt}`);
      }
    }
  }

  /** Writes this file's tally and throws when any response broke the contract since the last call. */
  assertClean(): void {
    tally.file = currentTestFile();
    const dir = contractReportDir();
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      const name = createHash('sha1').update(tally.file).digest('hex').slice(0, 16);
      fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(tally, null, 2));
    }
    const fresh = tally.failures.slice(reportedFailures);
    reportedFailures = tally.failures.length;
    if (fresh.length) {
      throw new Error(`${fresh.length} response(s) do not match /openapi.json (test/helpers/contract-validator.ts):\n  ${fresh.slice(0, 30).join('\n  ')}${fresh.length > 30 ? `\n  … and ${fresh.length - 30} more` : ''}`);
    }
  }
}
