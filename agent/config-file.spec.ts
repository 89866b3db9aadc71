import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli, UsageError } from './cli';
import { ConfigFileError, loadConfigFile, parseConfigFile } from './config-file';
import { defaultHandlers } from './handlers';

describe('agent config file (--config)', () => {
  let dir: string;
  let configPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    mkdirSync(join(dir, 'scripts'));
    for (const name of ['rotate.sh', 'restore.sh']) {
      writeFileSync(join(dir, 'scripts', name), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, 'scripts', name), 0o755);
    }
    writeFileSync(join(dir, 'scripts', 'not-executable.sh'), '#!/bin/sh\n');
    chmodSync(join(dir, 'scripts', 'not-executable.sh'), 0o644);
    configPath = join(dir, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        capabilities: ['gitops'],
        exec: [{ type: 'aws.rotate_iam_access_key', capability: 'aws-iam', run: ['./scripts/rotate.sh', '--verbose'], rollback: ['scripts/restore.sh'], timeout_seconds: 30, env: { AWS_PROFILE: 'cs' } }],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves programs given as paths against the config folder, keeps bare names for PATH, and applies defaults', () => {
    const config = loadConfigFile(configPath);
    expect(config.capabilities).toEqual(['gitops', 'aws-iam']);
    expect(config.exec).toEqual([
      {
        type: 'aws.rotate_iam_access_key',
        capability: 'aws-iam',
        run: [join(dir, 'scripts', 'rotate.sh'), '--verbose'],
        rollback: [join(dir, 'scripts', 'restore.sh')],
        timeoutSeconds: 30,
        env: { AWS_PROFILE: 'cs' },
        cwd: dir,
      },
    ]);
    const bare = parseConfigFile({ exec: [{ type: 'x.run', run: ['sh', '-c', 'true'] }] }, configPath).exec[0];
    expect(bare).toMatchObject({ run: ['sh', '-c', 'true'], rollback: null, timeoutSeconds: 60, capability: null });
  });

  it.each([
    [{ exec: [{ type: 'secret.read', run: ['sh'] }] }, /built-in job type/],
    [{ exec: [{ type: 'a.b', run: [] }] }, /exec\[0\]\.run must be a non-empty array/],
    [{ exec: [{ type: 'a.b', run: 'sh -c true' }] }, /no shell/],
    [{ exec: [{ type: 'a.b', run: ['./scripts/missing.sh'] }] }, /missing or not executable \(ENOENT/],
    [{ exec: [{ type: 'a.b', run: ['./scripts/not-executable.sh'] }] }, /missing or not executable \(EACCES; chmod \+x\?\)/],
    [{ exec: [{ type: 'a.b', run: ['sh'], timeout_seconds: 0 }] }, /timeout_seconds must be an integer/],
    [{ exec: [{ type: 'a.b', run: ['sh'], capability: 'AWS IAM' }] }, /capability must match/],
    [{ exec: [{ type: 'a.b', run: ['sh'], commands: [] }] }, /unknown key\(s\) commands/],
    [{ exec: [{ type: 'a.b', run: ['sh'], env: { COUNTERSIGN_JOB_ID: 'x' } }] }, /"COUNTERSIGN_JOB_ID" is not allowed/],
    [{ exec: [{ type: 'a.b', run: ['sh'] }, { type: 'a.b', run: ['sh'] }] }, /"a\.b" is already handled by exec\[0\]/],
    [{ exec: [{ type: 'a.b', run: ['sh'], rollback_type: 'a.b.undo' }] }, /unknown key\(s\) rollback_type/],
    [{ exec: {} }, /exec must be an array/],
    [{ plugins: [] }, /unknown key\(s\) plugins/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseConfigFile(raw, configPath)).toThrow(ConfigFileError);
    expect(() => parseConfigFile(raw, configPath)).toThrow(message);
  });

  it('refuses a file that is not JSON, naming the file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"exec": [');
    expect(() => loadConfigFile(bad)).toThrow(new RegExp(`--config ${bad}: not valid JSON`));
  });

  it('--config: the agent advertises the config capabilities besides its own, and --dir becomes optional', () => {
    const both = parseCli(['--dir', dir, '--config', configPath], {});
    expect(both !== 'help' && both.capabilities).toEqual(['file', 'gitops', 'aws-iam']);

    const execOnly = parseCli(['--config', configPath], {});
    if (execOnly === 'help') throw new Error('unexpected help');
    expect(execOnly.dir).toBeNull();
    expect(execOnly.capabilities).toEqual(['gitops', 'aws-iam']);
    expect(execOnly.statePath).toBe(join(dir, '.countersign-agent.json'));

    const explicit = parseCli(['--config', configPath, '--capabilities', 'aws-iam,extra'], {});
    expect(explicit !== 'help' && explicit.capabilities).toEqual(['aws-iam', 'extra', 'gitops']);

    expect(() => parseCli([], {})).toThrow(/--dir or --config is required/);
    const noCapability = join(dir, 'no-capability.json');
    writeFileSync(noCapability, JSON.stringify({ exec: [{ type: 'a.b', run: ['sh'] }] }));
    expect(() => parseCli(['--config', noCapability], {})).toThrow(UsageError);
  });

  it('registers the exec types; the file jobs only with --dir', () => {
    const { exec } = loadConfigFile(configPath);
    expect([...defaultHandlers({ files: false, exec }).keys()]).toEqual(['aws.rotate_iam_access_key']);
    expect([...defaultHandlers({ files: true, exec }).keys()]).toEqual([
      'discovery.run',
      'secret.read',
      'secret.patch',
      'secret.rotate',
      'aws.rotate_iam_access_key',
    ]);
  });
});
