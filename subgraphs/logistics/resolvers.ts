import type { Resolvers } from './generated/graphql';
import type { LogisticsContext } from './loaders';
import { ShipmentService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';
import { FactoryAccess } from '../../lib/factory-access';

const service = ({ em, client, loaders }: LogisticsContext) =>
  new ShipmentService(em, client, (loaders.factoryAccess ??= new FactoryAccess(client)));

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    shipment: (_root, { id }, ctx) => service(ctx).visibleShipment(requireCaller(ctx.caller), id),
    myShipments: (_root, args, { em, caller }) =>
      new ShipmentService(em).myShipments(requireCaller(caller).userId, { first: args.first, after: args.after }),
  },
  Mutation: {
    updateShipmentStatus: (_root, { input }, ctx) => service(ctx).updateStatus(requireCaller(ctx.caller), input),
  },
  Shipment: {
    __resolveReference: async (ref, ctx) => {
      const shipment = isId(ref.id) ? await ctx.loaders.shipment.load(ref.id) : null;
      return shipment && (await service(ctx).canSee(ctx.caller, shipment)) ? shipment : null;
    },
    events: (shipment, _args, { loaders }) => loaders.eventsByShipment.load(shipment.id!),
    order: (shipment) => ({ id: shipment.orderId! }),
  },
  Order: {
    __resolveReference: (ref) => ({ id: ref.id }),
    shipment: async (order, _args, ctx) => {
      const shipment = isId(order.id) ? await ctx.loaders.shipmentByOrder.load(order.id) : null;
      return shipment && (await service(ctx).canSee(ctx.caller, shipment)) ? shipment : null;
    },
  },
};
