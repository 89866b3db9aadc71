/**
 * `discovery.run`: list the provider's secrets (metadata only, never a value) and report them with `full_sync`,
 * so the ones no longer present become `removed`. The result is the server's `{created, updated, unchanged, removed}`.
 */
import { ReportedSecret } from '../api-client';
import { retryTransient } from '../retry';
import { JobFailure, JobHandler } from './handler';

/** The bulk route's limit; a partial full sync would wrongly mark the rest removed, so more fails the job. */
export const MAX_REPORTED = 5000;

export const discoveryHandler: JobHandler = async (job, ctx) => {
  // A plugin's `/discover` enqueues discovery.run with `{plugin_id, settings}` for the plugin's capability: reporting
  // this agent's files under a full sync would answer a question that was not asked.
  const pluginId = job.payload?.plugin_id;
  if (pluginId !== undefined) throw new JobFailure(`This agent discovers the secrets of its --dir only; it has no discovery for plugin ${JSON.stringify(pluginId)}.`);
  const found = await ctx.provider.list();
  if (found.length > MAX_REPORTED) throw new JobFailure(`Found ${found.length} secrets; one discovery reports at most ${MAX_REPORTED}.`);
  const secrets: ReportedSecret[] = found.map((s) => ({ cluster_name: ctx.clusterName, provider: ctx.provider.name, ref: s.ref, labels: s.labels, status: s.status }));
  // A full sync is idempotent, so transient failures (network, 5xx, 429) are simply retried for a while.
  const result = await retryTransient(() => ctx.api.bulkSecrets(secrets, true, ctx.signal), { signal: ctx.signal, budgetMs: 60_000, log: ctx.log, what: 'secret report' });
  ctx.log.info('discovery reported', { job_id: job.id, found: secrets.length, ...result });
  return { created: result.created, updated: result.updated, unchanged: result.unchanged, removed: result.removed };
};
