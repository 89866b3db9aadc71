import { TableRow } from '../../common/db/row-types';

export type TenantRow = TableRow<'tenants'>;
