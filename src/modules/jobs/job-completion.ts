import { JobRow } from './job.entity';
import { JobOutcome } from './dto/job.dto';

/** What an agent's completion of a job does, decided from the locked row (the same rule for one job or a batch). */
export type CompletionDecision = 'complete' | 'already_completed' | 'lease_lost';

/**
 * Only the current lease of the completing agent may end a leased job. Repeating the completion that ended it (same
 * lease, same agent, same status) is a no-op; anything else is a lost lease.
 */
export function decideCompletion(job: Pick<JobRow, 'status' | 'agent_id' | 'lease_token' | 'completed_lease_token'>, agentId: string, leaseToken: string, status: JobOutcome): CompletionDecision {
  const finished = job.status === 'succeeded' || job.status === 'failed';
  if (finished && job.completed_lease_token === leaseToken && job.status === status && job.agent_id === agentId) return 'already_completed';
  if (job.status === 'leased' && job.lease_token === leaseToken && job.agent_id === agentId) return 'complete';
  return 'lease_lost';
}
