import { isoRequired } from '../../common/api/time';
import { AuditEventRow } from './audit-event.entity';
import { AuditEventDto } from './dto/audit.dto';

/** The API form of an event; also what the hash chain hashes (canonical JSON of it). */
export const toAuditEventDto = (e: AuditEventRow): AuditEventDto => ({
  id: e.id,
  occurred_at: isoRequired(e.occurred_at),
  tenant_id: e.tenant_id,
  actor: { type: e.actor_type, id: e.actor_id, label: e.actor_label },
  action: e.action,
  resource_type: e.resource_type,
  resource_id: e.resource_id,
  outcome: e.outcome,
  request_id: e.request_id,
  correlation_id: e.correlation_id,
  ip: e.ip,
  user_agent: e.user_agent,
  payload: e.payload,
});

