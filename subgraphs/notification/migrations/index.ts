import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124718 } from './Migration20261125124718';

/** Applied in this order on start; new files come from `npm run migration:create -- notification`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261125124718', class: Migration20261125124718 }];
