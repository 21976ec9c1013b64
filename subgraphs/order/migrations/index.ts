import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124706 } from './Migration20261125124706';
import { Migration20261125153401 } from './Migration20261125153401';
import { Migration20261203130000 } from './Migration20261203130000';
import { Migration20261203140000 } from './Migration20261203140000';
import { Migration20261203145347 } from './Migration20261203145347';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- order`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124706', class: Migration20261125124706 },
  { name: 'Migration20261125153401', class: Migration20261125153401 },
  { name: 'Migration20261203130000', class: Migration20261203130000 },
  { name: 'Migration20261203140000', class: Migration20261203140000 },
  { name: 'Migration20261203145347', class: Migration20261203145347 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
