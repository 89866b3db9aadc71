import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from './app-config';
import { loadDotEnv } from './dotenv';

describe('loadDotEnv', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-dotenv-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies the variables of the file that the environment does not have; real ones win, even empty', () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, ['# comment', 'PORT=9100', 'LOG_LEVEL=debug', 'HOST="127.0.0.1"', 'METRICS_TOKEN=', 'TRUST_PROXY=1 # trailing comment', ''].join('\n'));
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', METRICS_TOKEN: '' };
    const result = loadDotEnv(file, env);
    expect(env).toEqual({ PORT: '9100', LOG_LEVEL: 'warn', HOST: '127.0.0.1', METRICS_TOKEN: '', TRUST_PROXY: '1' });
    expect(result?.file).toBe(file);
    expect(result?.loaded.sort()).toEqual(['HOST', 'PORT', 'TRUST_PROXY']);
    expect(result?.overridden.sort()).toEqual(['LOG_LEVEL', 'METRICS_TOKEN']);
  });

  it('does nothing when there is no file', () => {
    const env: NodeJS.ProcessEnv = { PORT: '1' };
    expect(loadDotEnv(path.join(dir, '.env'), env)).toBeUndefined();
    expect(env).toEqual({ PORT: '1' });
  });

  it('resolves a relative name against the working directory (`.env` where `npm start` runs)', () => {
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=9200\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const env: NodeJS.ProcessEnv = {};
      expect(loadDotEnv('.env', env)?.file).toBe(path.join(fs.realpathSync(dir), '.env'));
      expect(env.PORT).toBe('9200');
    } finally {
      process.chdir(cwd);
    }
  });

  it('.env.example, copied to .env as it says, is a valid configuration', () => {
    const example = path.resolve(__dirname, '..', '..', '.env.example');
    const env: NodeJS.ProcessEnv = { DATA_DIR: dir };
    const result = loadDotEnv(example, env)!;
    expect(result.loaded).toEqual(expect.arrayContaining(['PORT', 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'DB_STATEMENT_TIMEOUT_MS']));
    const config = loadConfig(env);
    expect(config.port).toBe(8000);
    expect(config.dataDir).toBe(dir); // the environment's DATA_DIR won over the file's
    expect(config.httpKeepAliveTimeoutMs).toBe(65000);
    expect(config.dbStatementTimeoutMs).toBe(5000);
  });
});
