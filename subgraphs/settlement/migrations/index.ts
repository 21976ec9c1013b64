import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261203143830 } from './Migration20261203143830';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- settlement`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261203143830', class: Migration20261203143830 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
