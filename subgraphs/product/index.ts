import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { seedCatalog } from './seed';
import { migrations } from './migrations';
import { Category } from './entities/category.entity';
import { Product } from './entities/product.entity';
import { Variant } from './entities/variant.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'product',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Category, Product, Variant],
  migrations,
  createLoaders,
  rest: mountRest,
  seed: seedCatalog,
};

if (require.main === module) runSubgraphProcess(subgraph);
