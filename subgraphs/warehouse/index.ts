import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { seedWarehouse } from './seed';
import { migrations } from './migrations';
import { Warehouse } from './entities/warehouse.entity';
import { InventoryLevel } from './entities/inventory-level.entity';
import { Reservation } from './entities/reservation.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'warehouse',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Warehouse, InventoryLevel, Reservation],
  migrations,
  createLoaders,
  rest: mountRest,
  seed: seedWarehouse,
};

if (require.main === module) runSubgraphProcess(subgraph);
