import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Wallet } from './entities/wallet.entity';
import { WalletTransaction } from './entities/wallet-transaction.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'wallet',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Wallet, WalletTransaction],
  migrations,
  createLoaders,
  rest: mountRest,
};

if (require.main === module) runSubgraphProcess(subgraph);
