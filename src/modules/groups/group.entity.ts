import { TableRow } from '../../common/db/row-types';

export interface GroupRow extends TableRow<'groups'> {
  member_count?: number;
}

export type GroupMemberRow = TableRow<'group_members'>;

/** A page row of a group's members: the membership with the user's email and name (`id` is the user id, the keyset). */
export interface GroupMemberViewRow extends GroupMemberRow {
  id: string;
  email: string;
  name: string;
}
