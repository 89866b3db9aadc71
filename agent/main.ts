#!/usr/bin/env node
/**
 * countersign-agent: the reference agent (SPEC §5). Talks only the public HTTP API; runs jobs against a provider.
 *
 *   node dist/agent/main.js --url http://localhost:8000 --enroll-token cse_… --dir ./secrets
 *
 * Exit codes: 0 stopped (SIGTERM/SIGINT), 1 fatal (credential rejected, enrollment failed, bad state), 2 usage.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApiClient, ApiError } from './api-client';
import { AgentConfig, parseCli, USAGE } from './cli';
import { generateKeyPair } from './crypto';
import { defaultHandlers } from './handlers';
import { Lifecycle } from './lifecycle';
import { createLogger, Logger } from './logger';
import { FileProvider } from './providers/file-provider';
import { ProviderError, SecretProvider } from './providers/provider';
import { retryTransient } from './retry';
import { AgentRunner, errorFields, isCredentialFailure } from './runner';
import { AgentState, loadState, saveState } from './state';
import { AGENT_VERSION } from './version';

class FatalError extends Error {
  constructor(message: string, readonly fields: Record<string, unknown> = {}) {
    super(message);
  }
}

export async function main(argv: string[]): Promise<number> {
  let config: AgentConfig | 'help';
  try {
    config = parseCli(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = createLogger(config.logLevel);
  const lifecycle = new Lifecycle(log);
  lifecycle.installSignalHandlers();
  try {
    if (config.dir !== null) {
      const dirInfo = await stat(config.dir).catch(() => null);
      if (!dirInfo?.isDirectory()) throw new FatalError('--dir is not a directory', { dir: resolve(config.dir) });
    }
    const state = await ensureEnrolled(config, log, lifecycle);
    if (!state) return 0; // stopped during setup
    const api = new ApiClient(state.url).forAgent(state.agent_id, state.agent_secret);
    const handlers = defaultHandlers({ files: config.dir !== null, exec: config.configFile?.exec });
    log.info('agent started', {
      agent_id: state.agent_id,
      url: state.url,
      dir: config.dir === null ? null : resolve(config.dir),
      config: config.configFile?.path ?? null,
      job_types: [...handlers.keys()],
      cluster_name: config.clusterName,
      capabilities: config.capabilities,
      concurrency: config.concurrency,
      version: AGENT_VERSION,
    });
    const runner = new AgentRunner({
      api,
      handlers,
      provider: config.dir === null ? noProvider : new FileProvider(config.dir),
      clusterName: config.clusterName,
      capabilities: config.capabilities,
      waitSeconds: config.waitSeconds,
      heartbeatSeconds: config.heartbeatSeconds,
      concurrency: config.concurrency,
      privateKeyRaw: Buffer.from(state.x25519_private_key, 'base64'),
      log,
      lifecycle,
    });
    return await runner.run();
  } catch (err) {
    if (lifecycle.stopping.aborted && !lifecycle.failed) return 0;
    if (err instanceof FatalError) log.error(err.message, err.fields);
    else log.error('agent failed', errorFields(err));
    return 1;
  }
}

/** Loads the state file, or enrolls (first run) and writes it; registers the X25519 public key if not done yet. */
async function ensureEnrolled(config: AgentConfig, log: Logger, lifecycle: Lifecycle): Promise<AgentState | null> {
  let state = await loadState(config.statePath).catch((err: Error) => {
    throw new FatalError('cannot read the state file', { state: config.statePath, error: err.message });
  });
  if (state) {
    if (config.url && normalizeUrl(config.url) !== normalizeUrl(state.url)) {
      // Never send this agent's secret to a server it did not enroll with.
      throw new FatalError('the state file belongs to another server; pass --state for a new agent', { state: config.statePath, state_url: state.url, url: config.url });
    }
    log.info('state loaded', { state: config.statePath, agent_id: state.agent_id });
  } else {
    if (!config.url) throw new FatalError('--url is required on the first run');
    if (!config.enrollToken) throw new FatalError('no state file yet: --enroll-token is required to enroll', { state: config.statePath });
    const enrollToken = config.enrollToken;
    const client = new ApiClient(config.url);
    const keys = generateKeyPair();
    let enrolled: Awaited<ReturnType<ApiClient['enroll']>>;
    try {
      enrolled = await retryTransient(
        () => client.enroll(enrollToken, { name: config.name, cluster_name: config.clusterName, version: AGENT_VERSION, capabilities: config.capabilities }),
        { signal: lifecycle.stopping, log, what: 'enrollment' },
      );
    } catch (err) {
      if (lifecycle.stopping.aborted) return null;
      if (err instanceof ApiError && err.status === 401) throw new FatalError('enrollment refused: the token is invalid, expired or used up', errorFields(err));
      throw new FatalError('enrollment failed', errorFields(err));
    }
    state = {
      url: normalizeUrl(config.url),
      agent_id: enrolled.agent.id,
      agent_secret: enrolled.agent_secret,
      x25519_private_key: keys.privateKeyRaw.toString('base64'),
      public_key: keys.publicKeyRaw.toString('base64'),
      public_key_registered: false,
    };
    await saveState(config.statePath, state);
    log.info('enrolled', { agent_id: state.agent_id, workspace_id: enrolled.agent.workspace_id, state: config.statePath });
  }
  if (!state.public_key_registered) {
    const api = new ApiClient(state.url).forAgent(state.agent_id, state.agent_secret);
    const publicKey = state.public_key;
    try {
      await retryTransient(() => api.registerPublicKey(publicKey, lifecycle.stopping), { signal: lifecycle.stopping, log, what: 'public key registration' });
    } catch (err) {
      if (lifecycle.stopping.aborted) return null;
      if (isCredentialFailure(err)) throw new FatalError('the server rejected the agent secret (revoked?)', errorFields(err));
      throw new FatalError('public key registration failed', errorFields(err));
    }
    state = { ...state, public_key_registered: true };
    await saveState(config.statePath, state);
    log.info('public key registered', { agent_id: state.agent_id });
  }
  return state;
}

/** Without `--dir` no file job is registered, so the provider is never reached; if it were, the job fails cleanly. */
const noProvider: SecretProvider = {
  name: 'none',
  list: () => Promise.reject(new ProviderError('This agent serves no --dir.')),
  locate: () => Promise.reject(new ProviderError('This agent serves no --dir.')),
  read: () => Promise.reject(new ProviderError('This agent serves no --dir.')),
  write: () => Promise.reject(new ProviderError('This agent serves no --dir.')),
};

function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`countersign-agent: ${err.message}\n`);
      process.exit(1);
    },
  );
}
