import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApi, ClaimedJob } from '../api-client';
import { parseConfigFile } from '../config-file';
import { createLogger } from '../logger';
import { SecretProvider } from '../providers/provider';
import { execHandler, lastLines, scrubText, settingEnvName, settingSecrets, TailBuffer } from './exec';
import { JobContext, JobFailure, JobHandler } from './handler';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TYPE = 'aws.rotate_iam_access_key';

describe('exec handler (real child processes)', () => {
  let dir: string;
  let logLines: string[];
  const savedToken = process.env.COUNTERSIGN_ENROLL_TOKEN;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-exec-'));
    process.env.COUNTERSIGN_ENROLL_TOKEN = 'cse_must_not_reach_the_script';
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedToken === undefined) delete process.env.COUNTERSIGN_ENROLL_TOKEN;
    else process.env.COUNTERSIGN_ENROLL_TOKEN = savedToken;
  });
  beforeEach(() => {
    logLines = [];
  });

  const script = (name: string, body: string): string => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return `./${name}`;
  };

  /** The handlers of one entry, built through the config parser as the agent does (relative paths, defaults). */
  const handlerFor = (entry: Record<string, unknown>, killGraceMs = 500): JobHandler => {
    const config = parseConfigFile({ exec: [{ type: TYPE, ...entry }] }, join(dir, 'config.json'));
    return execHandler(config.exec[0], { killGraceMs });
  };

  const ctx = (signal = new AbortController().signal): JobContext => ({
    api: {} as AgentApi,
    provider: {} as SecretProvider,
    clusterName: 'c1',
    log: createLogger('debug', { write: (l: string) => logLines.push(l) }),
    signal,
    privateKeyRaw: Buffer.alloc(32),
  });

  const job = (payload: Record<string, unknown>, type = TYPE): ClaimedJob => ({
    id: 'job_1',
    type,
    request_id: 'req_1',
    payload,
    attempt: 2,
    lease_token: 'lease-1',
    lease_expires_at: new Date().toISOString(),
  });

  const payload = { target: { iam_user: 'deploy-bot' }, settings: { region: 'eu-west-1', secret_access_key: SECRET, max_age_days: 90 } };

  const failureOf = async (promise: Promise<unknown>): Promise<JobFailure> => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(JobFailure);
      return error as JobFailure;
    }
    throw new Error('expected the job to fail');
  };

  it('hands the script its target on stdin and its settings in the environment, and scrubs setting values from the result', async () => {
    const run = script(
      'rotate.sh',
      [
        'read -r target',
        'echo "target=$target"',
        'echo "region=$COUNTERSIGN_SETTING_REGION key=$COUNTERSIGN_SETTING_SECRET_ACCESS_KEY age=$COUNTERSIGN_SETTING_MAX_AGE_DAYS"',
        'echo "job=$COUNTERSIGN_JOB_ID request=$COUNTERSIGN_REQUEST_ID type=$COUNTERSIGN_REQUEST_TYPE attempt=$COUNTERSIGN_ATTEMPT"',
        'echo "token=${COUNTERSIGN_ENROLL_TOKEN:-unset} rollback=${COUNTERSIGN_ROLLBACK:-unset} cwd=$(pwd)"',
        'echo "{\\"rotated\\":true,\\"user\\":\\"deploy-bot\\",\\"leak\\":\\"$COUNTERSIGN_SETTING_SECRET_ACCESS_KEY\\"}"',
      ].join('\n'),
    );
    const result = await handlerFor({ run: [run] })(job(payload), ctx());

    expect(result).toEqual({ exit_code: 0, output: expect.any(String), result: { rotated: true, user: 'deploy-bot', leak: '***' } });
    const output = result.output as string;
    expect(output).toContain('target={"iam_user":"deploy-bot"}');
    // The value reached the environment (it was printed) and was replaced before leaving the handler.
    expect(output).toContain('region=*** key=*** age=90');
    expect(output).toContain(`job=job_1 request=req_1 type=${TYPE} attempt=2`);
    expect(output).toContain('token=unset rollback=unset');
    expect(output).toMatch(/cwd=.*agent-exec-/);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(logLines.join('')).not.toContain(SECRET);
    expect(logLines.join('')).toContain('exec finished');
  });

  it('fails a job whose command exits non-zero with the tail of its stderr (scrubbed)', async () => {
    const run = script('fail.sh', ['echo "working on it"', 'echo "early noise" >&2', 'echo "AccessDenied for key $COUNTERSIGN_SETTING_SECRET_ACCESS_KEY" >&2', 'exit 3'].join('\n'));
    const failure = await failureOf(handlerFor({ run: [run] })(job(payload), ctx()));
    expect(failure.message).toBe('Command exited with code 3: early noise\nAccessDenied for key ***');
    expect(failure.result).toEqual({ exit_code: 3, output: 'working on it' });
    expect(logLines.join('')).not.toContain(SECRET);
  });

  it('terminates a command that runs past its timeout (and its children), failing the job "timed out"', async () => {
    const run = script('slow.sh', ['echo "started"', 'sleep 60', 'echo "never"'].join('\n'));
    const started = Date.now();
    const failure = await failureOf(handlerFor({ run: [run], timeout_seconds: 1 })(job(payload), ctx()));
    expect(failure.message).toBe('Command timed out after 1 s (terminated): started');
    expect(failure.result).toMatchObject({ timed_out: true, output: 'started' });
    // Well before the 60 s sleep: the whole process group was signalled, so nothing kept the pipes open.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);

  it('kills a command that ignores SIGTERM after the grace', async () => {
    const run = script('stubborn.sh', ['trap "" TERM', 'echo "ignoring TERM"', 'while :; do sleep 1; done'].join('\n'));
    const failure = await failureOf(handlerFor({ run: [run], timeout_seconds: 1 }, 300)(job(payload), ctx()));
    expect(failure.message).toMatch(/^Command timed out after 1 s \(terminated\)/);
    expect(failure.result).toMatchObject({ timed_out: true, signal: 'SIGKILL' });
  }, 40_000);

  it('runs the rollback command for a job of the same type with rollback: true, with COUNTERSIGN_ROLLBACK and the original result', async () => {
    const run = script('never.sh', 'echo "the forward command must not run"; exit 9');
    const restore = script(
      'restore.sh',
      ['read -r target', 'echo "rollback=$COUNTERSIGN_ROLLBACK type=$COUNTERSIGN_REQUEST_TYPE target=$target"', 'echo "original=$COUNTERSIGN_ORIGINAL_RESULT"'].join('\n'),
    );
    const handler = handlerFor({ run: [run], rollback: [restore] });
    const original = { exit_code: 0, output: '', result: { old_access_key_id: 'AKIAOLD' } };

    const rolledBack = await handler(job({ ...payload, rollback: true, original_result: original }), ctx());
    expect(rolledBack).toEqual({ exit_code: 0, output: `rollback=1 type=${TYPE} target={"iam_user":"deploy-bot"}\noriginal=${JSON.stringify(original)}` });

    // original_result is null when the executing job failed without a result.
    const fromFailure = await handler(job({ ...payload, rollback: true, original_result: null }), ctx());
    expect(fromFailure.output).toContain('original=null');
  });

  it('hands a plugin.test job the plugin id (no target: {} on stdin)', async () => {
    const test = script('test.sh', ['read -r target', 'echo "plugin=$COUNTERSIGN_PLUGIN_ID type=$COUNTERSIGN_REQUEST_TYPE target=$target"'].join('\n'));
    const config = parseConfigFile({ exec: [{ type: 'plugin.test', run: [test] }] }, join(dir, 'config.json'));
    const result = await execHandler(config.exec[0])(job({ plugin_id: 'plg_1', settings: payload.settings }, 'plugin.test'), ctx());
    expect(result.output).toBe('plugin=plg_1 type=plugin.test target={}');
  });

  it('fails a rollback job when the entry has no rollback command', async () => {
    const run = script('ok.sh', 'echo ok');
    const failure = await failureOf(handlerFor({ run: [run] })(job({ ...payload, rollback: true }), ctx()));
    expect(failure.message).toContain('no rollback command');
  });

  it('fails the job when the program cannot be started', async () => {
    const failure = await failureOf(handlerFor({ run: ['no-such-program-countersign'] })(job(payload), ctx()));
    expect(failure.message).toBe('Cannot start no-such-program-countersign: ENOENT.');
  });

  it('keeps only a tail of a large output, and no secret survives even when the tail starts inside one', async () => {
    // 2000 lines, each carrying the secret: the kept tail (small here) starts somewhere inside a line.
    const run = script('chatty.sh', 'i=0; while [ $i -lt 2000 ]; do echo "line $i $COUNTERSIGN_SETTING_SECRET_ACCESS_KEY"; i=$((i+1)); done');
    const config = parseConfigFile({ exec: [{ type: TYPE, run: [run] }] }, join(dir, 'config.json'));
    for (const tailBytes of [97, 100, 101, 128]) {
      const result = await execHandler(config.exec[0], { tailBytes })(job(payload), ctx());
      const output = result.output as string;
      expect(output).toContain('line 1999 ***');
      expect(output.length).toBeLessThanOrEqual(tailBytes);
      // No fragment of the secret longer than a few characters.
      for (let i = 0; i + 6 <= SECRET.length; i++) expect(output).not.toContain(SECRET.slice(i, i + 6));
    }
  });

  it('aborts the command when the agent abandons the job at shutdown', async () => {
    const run = script('long.sh', 'sleep 60');
    const abort = new AbortController();
    const running = handlerFor({ run: [run], timeout_seconds: 120 })(job(payload), ctx(abort.signal));
    setTimeout(() => abort.abort(), 200);
    await expect(running).rejects.toThrow();
    expect(abort.signal.aborted).toBe(true);
  }, 40_000);
});

describe('exec helpers', () => {
  it('names setting variables in UPPER_SNAKE', () => {
    expect(settingEnvName('region')).toBe('COUNTERSIGN_SETTING_REGION');
    expect(settingEnvName('secret_access_key')).toBe('COUNTERSIGN_SETTING_SECRET_ACCESS_KEY');
    expect(settingEnvName('secretAccessKey')).toBe('COUNTERSIGN_SETTING_SECRET_ACCESS_KEY');
    expect(settingEnvName('api-token.v2')).toBe('COUNTERSIGN_SETTING_API_TOKEN_V2');
    expect(settingEnvName('--')).toBe('');
  });

  it('collects string and number values of 4+ characters at any depth, longest first', () => {
    expect(settingSecrets({ a: 'abc', b: 'abcd', c: { d: ['longer-value', 12345, 12] }, e: true })).toEqual(['longer-value', '12345', 'abcd']);
  });

  it('scrubs a value as written and as escaped inside a JSON string', () => {
    const secret = 'pa"ss\\word';
    expect(scrubText(`raw ${secret} json ${JSON.stringify({ k: secret })}`, [secret])).toBe('raw *** json {"k":"***"}');
  });

  it('keeps the last lines within a character cap', () => {
    expect(lastLines('a\nb\nc\n\n', 2, 100)).toBe('b\nc');
    expect(lastLines('0123456789', 5, 5)).toBe('…6789');
  });

  it('TailBuffer keeps the last bytes only', () => {
    const tail = new TailBuffer(8);
    for (const chunk of ['abc', 'defgh', 'ijklmnop', 'qr']) tail.push(Buffer.from(chunk));
    expect(tail.truncated).toBe(true);
    expect(tail.text([])).toBe('klmnopqr');
    // The front "klm" could be the end of the cut secret "xyzklm": it is masked, not shown.
    expect(tail.text(['xyzklm'])).toBe('***nopqr');
    expect(tail.text(['klmnopqr'])).toBe('klmnopqr'); // a whole secret is left to scrubText
    const short = new TailBuffer(8);
    short.push(Buffer.from('abcdefgh'));
    expect(short.text(['xyzab'])).toBe('abcdefgh'); // nothing was dropped: nothing was cut
  });
});
