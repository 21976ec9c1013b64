import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Address } from './entities/address.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'address',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Address],
  migrations,
  createLoaders,
  rest: mountRest,
};

if (require.main === module) runSubgraphProcess(subgraph);
