import type { Resolvers } from './generated/graphql';
import { InventoryService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { notFound } from '../../lib/errors';
import { isId } from '../../lib/ids';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    warehouses: (_root, _args, { em, caller }) => new InventoryService(em).warehouses(requireCaller(caller)),
    inventory: (_root, { variantId }, { em, caller }) =>
      new InventoryService(em).inventory(requireCaller(caller), variantId),
  },
  Mutation: {
    createWarehouse: (_root, { input }, { em, caller, client }) =>
      new InventoryService(em, client).createWarehouse(requireCaller(caller), input),
    setInventory: (_root, { input }, { em, caller, client }) =>
      new InventoryService(em, client).setInventory(requireCaller(caller), input),
  },
  Warehouse: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.warehouse.load(ref.id) : null),
  },
  InventoryLevel: {
    warehouse: async (level, _args, { loaders }) => {
      const warehouse = await loaders.warehouse.load(level.warehouseId!);
      if (!warehouse) throw notFound('Warehouse of this stock level is missing');
      return warehouse;
    },
    available: (level) => level.quantity! - level.reserved!,
  },
  Variant: {
    __resolveReference: (ref) => ({ id: ref.id }),
    stock: (variant, _args, { loaders }) => (isId(variant.id) ? loaders.stock.load(variant.id) : 0),
  },
};
