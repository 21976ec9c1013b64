import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125124737 } from './Migration20261125124737';

/** Applied in this order on start; new files come from `npm run migration:create -- wallet`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261125124737', class: Migration20261125124737 }];
