import { TableRow } from '../../common/db/row-types';

export type SecretRow = TableRow<'secrets', { labels: Record<string, string> }>;
