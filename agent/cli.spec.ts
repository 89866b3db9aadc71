import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCli, UsageError } from './cli';

describe('agent CLI: the enrollment token stays out of the command line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cli-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads --enroll-token-file (trimmed)', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'cse_from_file\n', { mode: 0o600 });
    const config = parseCli(['--dir', dir, '--enroll-token-file', file], {});
    expect(config).not.toBe('help');
    expect(config !== 'help' && config.enrollToken).toBe('cse_from_file');
  });

  it('takes COUNTERSIGN_ENROLL_TOKEN from the environment', () => {
    const config = parseCli(['--dir', dir], { COUNTERSIGN_ENROLL_TOKEN: 'cse_from_env' });
    expect(config !== 'help' && config.enrollToken).toBe('cse_from_env');
  });

  it('refuses a missing or empty token file with a usage error naming the flag', () => {
    expect(() => parseCli(['--dir', dir, '--enroll-token-file', path.join(dir, 'nope')], {})).toThrow(UsageError);
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '  \n');
    expect(() => parseCli(['--dir', dir, '--enroll-token-file', empty], {})).toThrow(/--enroll-token-file/);
  });
});
