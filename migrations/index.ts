import { Baseline1764000000000 } from './1764000000000-baseline';
import { Identity1764000100000 } from './1764000100000-identity';
import { AuditIdempotency1764000200000 } from './1764000200000-audit-idempotency';
import { AgentsJobs1764000300000 } from './1764000300000-agents-jobs';
import { WorkflowsPolicies1764000400000 } from './1764000400000-workflows-policies';
import { Requests1764000500000 } from './1764000500000-requests';
import { AuditSealerIndex1764000600000 } from './1764000600000-audit-sealer-index';
import { InvitationsByEmail1764000700000 } from './1764000700000-invitations-by-email';
import { AuditCheckpointKeyId1764000800000 } from './1764000800000-audit-checkpoint-key-id';
import { Plugins1764000900000 } from './1764000900000-plugins';
import { Webhooks1764001000000 } from './1764001000000-webhooks';
import { PrincipalInvalidation1764001100000 } from './1764001100000-principal-invalidation';
import { Groups1764001200000 } from './1764001200000-groups';
import { Oidc1764001300000 } from './1764001300000-oidc';

/** Every migration, oldest first. A new migration file is added here as well (the list is explicit on purpose). */
export const migrations = [Baseline1764000000000, Identity1764000100000, AuditIdempotency1764000200000, AgentsJobs1764000300000, WorkflowsPolicies1764000400000, Requests1764000500000, AuditSealerIndex1764000600000, InvitationsByEmail1764000700000, AuditCheckpointKeyId1764000800000, Plugins1764000900000, Webhooks1764001000000, PrincipalInvalidation1764001100000, Groups1764001200000, Oidc1764001300000];
