import { Cluster } from './cluster';
import { nodeVersion } from './nodes';

/** Prints a run's figures (one line, JSON) and writes them to `summary-<name>.json` in the run's temp folder. */
export function report(cluster: Cluster, name: string, figures: Record<string, unknown>): string {
  const summary = {
    suite: name,
    replicas: cluster.replicas.length,
    node: nodeVersion(),
    replica_starts: cluster.replicas.reduce((n, r) => n + r.starts, 0),
    redis: cluster.redisUrl ? 'shared' : 'none',
    database: cluster.db?.owned ? 'embedded (harness-owned)' : 'CLUSTER_DATABASE_URL',
    ...figures,
    proxy: cluster.proxy?.stats,
  };
  const file = cluster.writeSummary(summary);
  process.stdout.write(`cluster summary (${name}): ${JSON.stringify(summary)}\ncluster summary written to ${file}\n`);
  return file;
}
