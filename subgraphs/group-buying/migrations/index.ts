import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124758 } from './Migration20261125124758';
import { Migration20261125153402 } from './Migration20261125153402';
import { Migration20261203114500 } from './Migration20261203114500';
import { Migration20261203130000 } from './Migration20261203130000';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- group-buying`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124758', class: Migration20261125124758 },
  { name: 'Migration20261125153402', class: Migration20261125153402 },
  { name: 'Migration20261203114500', class: Migration20261203114500 },
  { name: 'Migration20261203130000', class: Migration20261203130000 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
