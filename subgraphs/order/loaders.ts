import type { EntityManager } from '@mikro-orm/postgresql';
import { childrenLoader, entityLoader } from '../../lib/loaders';
import { SubgraphContext } from '../../lib/context';
import { Order } from './entities/order.entity';
import { OrderItem } from './entities/order-item.entity';

export function createLoaders(em: EntityManager) {
  return {
    order: entityLoader(em, Order),
    itemsByOrder: childrenLoader(em, OrderItem, 'orderId'),
  };
}

export type OrderContext = SubgraphContext<ReturnType<typeof createLoaders>>;
