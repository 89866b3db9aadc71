import { PolicyEffect, PolicyMatch } from './policy-engine';
import { TableRow } from '../../common/db/row-types';

export type PolicyRow = TableRow<'policies', { effect: PolicyEffect; match: PolicyMatch }>;
