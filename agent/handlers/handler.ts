import { AgentApi, ClaimedJob } from '../api-client';
import { Logger } from '../logger';
import { SecretProvider } from '../providers/provider';

/** What a job handler may use. `signal` aborts when the agent must stop at once (shutdown grace ran out). */
export interface JobContext {
  api: AgentApi;
  provider: SecretProvider;
  clusterName: string;
  log: Logger;
  signal: AbortSignal;
  /** The agent's raw X25519 private key (for opening patch-flow wraps). */
  privateKeyRaw: Buffer;
}

/** Runs one job; the returned object is the completion's `result`. Throw to fail the job (the message is reported). */
export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<Record<string, unknown>>;

/** A failure whose message is safe to report to the server as the job's `error` (and `result`, when set, as its result). */
export class JobFailure extends Error {
  result?: Record<string, unknown>;
}
