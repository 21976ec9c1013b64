import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124502 } from './Migration20261125124502';

/** Applied in this order on start; new files come from `npm run migration:create -- warehouse`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261125124502', class: Migration20261125124502 }];
