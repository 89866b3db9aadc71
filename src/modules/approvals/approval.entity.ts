import { TableRow } from '../../common/db/row-types';

export type ApprovalRow = TableRow<'approvals'>;
