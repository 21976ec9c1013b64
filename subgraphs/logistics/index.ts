import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { Shipment } from './entities/shipment.entity';
import { TrackingEvent } from './entities/tracking-event.entity';
import { ShipmentStatusChange } from './entities/shipment-status-change.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'logistics',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Shipment, TrackingEvent, ShipmentStatusChange, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  // Delivers the order status callbacks and buyer notifications that status changes enqueue.
  background: (deps) => [startOutboxWorker(deps)],
};

if (require.main === module) runSubgraphProcess(subgraph);
