import { TableRow } from '../../common/db/row-types';

export type AgentRow = TableRow<'agents'>;

/** An agent with what the guard needs to accept its secret. */
export interface AgentContextRow extends AgentRow {
  /** The tenant's status, or `deleted` when the agent's workspace is. */
  tenant_status: string;
}

export type EnrollmentTokenRow = TableRow<'agent_enrollment_tokens'>;
