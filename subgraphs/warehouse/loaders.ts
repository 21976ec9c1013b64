import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Warehouse } from './entities/warehouse.entity';

export function createLoaders(em: EntityManager) {
  return {
    warehouse: entityLoader(em, Warehouse),
    /** Available units per variant across warehouses, one grouped query per batch. */
    stock: new DataLoader<string, number>(async (variantIds) => {
      const rows: { variant_id: string; available: string }[] = await em.execute(
        'select variant_id, sum(quantity - reserved) as available from inventory where variant_id in (?) group by variant_id',
        [[...variantIds]],
      );
      const byVariant = new Map(rows.map((row) => [row.variant_id, Number(row.available)]));
      return variantIds.map((id) => byVariant.get(id) ?? 0);
    }),
  };
}

export type WarehouseContext = SubgraphContext<ReturnType<typeof createLoaders>>;
