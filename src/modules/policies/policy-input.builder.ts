import { Injectable } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';

import { RolesService } from '../roles/roles.service';
import { GroupsService } from '../groups/groups.service';
import { SecretRow } from '../secrets/secret.entity';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { PolicyInput } from './policy-engine';
import { EnvironmentNotFoundError } from '../workspaces/workspaces.errors';

export interface PolicyInputSource {
  type: string;
  /** The inventory entry the request is about (metadata only), if any. */
  secret?: Pick<SecretRow, 'provider' | 'cluster_name' | 'ref' | 'labels'> | null;
  /** A plugin request's target (JSON), if any. */
  target?: Record<string, unknown> | null;
  workspaceId: string;
  environmentId: string | null;
  accessDurationSeconds: number | null;
}

/** Builds what policies see (SPEC §4 CEL variables) for a request made by `principal`; shared by the dry run and submit. */
@Injectable()
export class PolicyInputBuilder {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly roles: RolesService,
    private readonly groups: GroupsService,
  ) {}

  async build(principal: Principal, source: PolicyInputSource): Promise<PolicyInput> {
    let environment: { name: string; protected: boolean } | undefined;
    if (source.environmentId) {
      environment = await this.workspaces.environmentInfo(principal.tenantId, source.environmentId);
      if (!environment) throw new EnvironmentNotFoundError(source.environmentId);
    }
    // An API key acts for its creator: its requester roles are the creator's.
    const roles = principal.userId ? await this.roles.roleNamesOf(principal.tenantId, principal.userId) : [];
    const groups = principal.userId ? (await this.groups.groupsOf(principal.tenantId, principal.userId)).map((g) => g.name).sort() : [];
    return {
      request: {
        type: source.type,
        workspace_id: source.workspaceId,
        environment_id: source.environmentId,
        environment: environment?.name ?? null,
        environment_protected: environment?.protected ?? false,
        access_duration_seconds: source.accessDurationSeconds,
      },
      // Group names, like role names (an API key acts for its creator: the creator's groups).
      requester: { id: principal.id, email: principal.label, roles, groups },
      secret: source.secret ? { provider: source.secret.provider, cluster_name: source.secret.cluster_name, ref: source.secret.ref, labels: { ...source.secret.labels } } : null,
      target: source.target ?? null,
      now: new Date(),
    };
  }
}
