import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124306 } from './Migration20261125124306';
import { Migration20261203130000 } from './Migration20261203130000';
import { Migration20261203143333 } from './Migration20261203143333';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- factory`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124306', class: Migration20261125124306 },
  { name: 'Migration20261203130000', class: Migration20261203130000 },
  { name: 'Migration20261203143333', class: Migration20261203143333 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
