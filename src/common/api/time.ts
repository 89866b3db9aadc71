/** RFC 3339 UTC, or null. */
export function iso(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  return (date instanceof Date ? date : new Date(date)).toISOString();
}

export function isoRequired(date: Date | string): string {
  return (date instanceof Date ? date : new Date(date)).toISOString();
}
