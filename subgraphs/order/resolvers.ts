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
  },
  Mutation: {
    createOrder: (_root, { input }, { em, caller, client, config, logger }) =>
      new OrderService(em, client, config, logger).createOrder(requireCaller(caller), input),
  },
  Order: {
    // References come from subgraphs that already decided the caller may see the order (payment, logistics).
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.order.load(ref.id) : null),
    items: (order, _args, { loaders }) => loaders.itemsByOrder.load(order.id!),
    shippingAddress: (order) => ({ id: order.addressId! }),
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
