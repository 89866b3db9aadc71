import { TableRow } from '../../common/db/row-types';

export type WorkspaceRow = TableRow<'workspaces'>;

export type EnvironmentRow = TableRow<'environments'>;
