import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125123435 } from './Migration20261125123435';

/** Applied in this order on start; new files come from `npm run migration:create -- product`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261125123435', class: Migration20261125123435 }];
