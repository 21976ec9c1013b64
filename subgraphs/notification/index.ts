import fs from 'node:fs';
import path from 'node:path';
import gql from 'graphql-tag';
import { runSubgraphProcess, SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Notification } from './entities/notification.entity';
import { NOTIFICATION_ADDED } from './service';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'notification',
  typeDefs: gql(fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8')),
  resolvers,
  entities: [Notification],
  migrations,
  createLoaders,
  rest: mountRest,
  eventChannels: [NOTIFICATION_ADDED],
};

if (require.main === module) runSubgraphProcess(subgraph);
