import type { OrderStatus, Resolvers } from './generated/graphql';
import { OrderService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    order: (_root, { id }, { em, caller, client, config }) =>
      new OrderService(em, client, config).visibleOrder(requireCaller(caller), id),
    myOrders: (_root, args, { em, caller, client, config }) =>
      new OrderService(em, client, config).myOrders(requireCaller(caller), { first: args.first, after: args.after }),
    factoryOrders: (_root, args, { em, caller, client, config }) =>
      new OrderService(em, client, config).factoryOrders(requireCaller(caller), args),
  },
  Mutation: {
    createOrder: (_root, { input }, { em, caller, client, config, logger }) =>
      new OrderService(em, client, config, logger).createOrder(requireCaller(caller), input),
    acceptOrder: (_root, { orderId }, { em, caller, client, config, logger }) =>
      new OrderService(em, client, config, logger).acceptOrder(requireCaller(caller), orderId),
    cancelOrder: (_root, { orderId, reason }, { em, caller, client, config, logger }) =>
      new OrderService(em, client, config, logger).cancelOrder(requireCaller(caller), orderId, { reason }),
  },
  Order: {
    // References come from subgraphs that already decided the caller may see the order (payment, logistics);
    // the address subgraph trusts the same: whoever may see an order may read where it ships (addressId).
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.order.load(ref.id) : null),
    items: (order, _args, { loaders }) => loaders.itemsByOrder.load(order.id!),
    groupBuyingSession: (order) => (order.sessionId ? { id: order.sessionId } : null),
    statusHistory: (order, _args, { loaders }) => loaders.historyByOrder.load(order.id!),
  },
  OrderStatusChange: {
    from: (change) => change.fromStatus as OrderStatus | null,
    to: (change) => change.toStatus as OrderStatus,
    at: (change) => change.changedAt!,
  },
  OrderItem: {
    product: (item) => ({ id: item.productId! }),
    variant: (item) => ({ id: item.variantId!, sku: item.sku! }),
  },
};
