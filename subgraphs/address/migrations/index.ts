import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124308 } from './Migration20261125124308';

/** Applied in this order on start; new files come from `npm run migration:create -- address`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261125124308', class: Migration20261125124308 }];
