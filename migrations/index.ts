import { Baseline1764000000000 } from './1764000000000-baseline';

/** Every migration, oldest first. A new migration file is added here as well (the list is explicit on purpose). */
export const migrations = [Baseline1764000000000];
