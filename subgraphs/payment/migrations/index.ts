import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124643 } from './Migration20261125124643';
import { Migration20261125153403 } from './Migration20261125153403';
import { Migration20261203130000 } from './Migration20261203130000';
import { Migration20261203131500 } from './Migration20261203131500';
import { Migration20261203143408 } from './Migration20261203143408';
import { Migration20261203180000 } from './Migration20261203180000';

/** Applied in this order on start; new files come from `npm run migration:create -- payment`. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125124643', class: Migration20261125124643 },
  { name: 'Migration20261125153403', class: Migration20261125153403 },
  { name: 'Migration20261203130000', class: Migration20261203130000 },
  { name: 'Migration20261203131500', class: Migration20261203131500 },
  { name: 'Migration20261203143408', class: Migration20261203143408 },
  { name: 'Migration20261203180000', class: Migration20261203180000 },
];
