import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124622 } from './Migration20261125124622';
import { Migration20261203120000 } from './Migration20261203120000';

/** Applied in this order on start; new files come from `npm run migration:create -- auth`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124622', class: Migration20261125124622 },
  { name: 'Migration20261203120000', class: Migration20261203120000 },
];
