import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Notification } from './entities/notification.entity';
import { NOTIFICATION_ADDED } from './service';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'notification',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Notification, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  eventChannels: [NOTIFICATION_ADDED],
  // Delivers the factory owners' WhatsApp notices.
  background: (deps) => [startOutboxWorker(deps)],
};

if (require.main === module) runSubgraphProcess(subgraph);
