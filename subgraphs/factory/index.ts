import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { seedFactories } from './seed';
import { migrations } from './migrations';
import { Factory } from './entities/factory.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'factory',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Factory, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  seed: seedFactories,
  // Delivers the owner promotions createFactory enqueues.
  background: (deps) => [startOutboxWorker(deps)],
};

if (require.main === module) runSubgraphProcess(subgraph);
