import type { EntityManager } from '@mikro-orm/postgresql';
import { childrenLoader, entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';
import { OrderStatusChange } from './entities/order-status-change.entity';

export function createLoaders(em: EntityManager) {
  return {
    order: entityLoader(em, Order),
    itemsByOrder: childrenLoader(em, OrderItem, 'orderId'),
    historyByOrder: childrenLoader(em, OrderStatusChange, 'subjectId'),
  };
}

export type OrderContext = SubgraphContext<ReturnType<typeof createLoaders>>;
