import fs from 'node:fs';
import path from 'node:path';
import gql from 'graphql-tag';
import { runSubgraphProcess, SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Address } from './entities/address.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'address',
  typeDefs: gql(fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8')),
  resolvers,
  entities: [Address],
  migrations,
  createLoaders,
  rest: mountRest,
};

if (require.main === module) runSubgraphProcess(subgraph);
