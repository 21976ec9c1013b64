import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124718 } from './Migration20261125124718';
import { Migration20261203144242 } from './Migration20261203144242';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- notification`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124718', class: Migration20261125124718 },
  { name: 'Migration20261203144242', class: Migration20261203144242 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
