import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124308 } from './Migration20261125124308';
import { Migration20261203152032 } from './Migration20261203152032';

/** Applied in this order on start; new files come from `npm run migration:create -- address`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124308', class: Migration20261125124308 },
  { name: 'Migration20261203152032', class: Migration20261203152032 },
];
