import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124733 } from './Migration20261125124733';
import { Migration20261125153404 } from './Migration20261125153404';
import { Migration20261203130000 } from './Migration20261203130000';
import { Migration20261203144001 } from './Migration20261203144001';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- logistics`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124733', class: Migration20261125124733 },
  { name: 'Migration20261125153404', class: Migration20261125153404 },
  { name: 'Migration20261203130000', class: Migration20261203130000 },
  { name: 'Migration20261203144001', class: Migration20261203144001 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
