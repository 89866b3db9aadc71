export interface TenantRow {
  id: string;
  slug: string;
  display_name: string;
  plan: string;
  status: 'active' | 'suspended' | 'deleted';
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}
