import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { type OrderServices, orderServices } from './worker';
import { migrations } from './migrations';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';
import { OrderStatusChange } from './entities/order-status-change.entity';
import { OrderService } from './service';
import { startDrainingTask } from '../../lib/periodic';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>, OrderServices> = {
  name: 'order',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Order, OrderItem, OrderStatusChange, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  init: orderServices,
  background: (deps, { outbox }) => [
    outbox,
    startDrainingTask(
      'unpaid hold sweep',
      deps.config.UNPAID_SWEEP_MS,
      () => new OrderService(deps.orm.em.fork(), deps.client, deps.config, deps.logger).cancelLapsedUnpaid(),
      deps.logger,
    ),
  ],
};

if (require.main === module) runSubgraphProcess(subgraph);
