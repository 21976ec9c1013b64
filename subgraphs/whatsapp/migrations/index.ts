import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261203143850 } from './Migration20261203143850';

/** Applied in this order on start; new files come from `npm run migration:create -- whatsapp`. */
export const migrations: MigrationObject[] = [{ name: 'Migration20261203143850', class: Migration20261203143850 }];
