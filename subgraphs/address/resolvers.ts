import type { Resolvers } from './generated/graphql';
import { AddressService, canSee } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';
import { notFound } from '../../lib/errors';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    myAddresses: (_root, _args, { em, caller }) => new AddressService(em).myAddresses(requireCaller(caller).userId),
    address: (_root, { id }, { em, caller }) => new AddressService(em).visibleAddress(requireCaller(caller), id),
  },
  Mutation: {
    createAddress: (_root, { input }, { em, caller }) =>
      new AddressService(em).createAddress(requireCaller(caller), input),
    updateAddress: (_root, { id, input }, { em, caller }) =>
      new AddressService(em).updateAddress(requireCaller(caller), id, input),
    deleteAddress: (_root, { id }, { em, caller }) => new AddressService(em).deleteAddress(requireCaller(caller), id),
    setDefaultAddress: (_root, { id }, { em, caller }) =>
      new AddressService(em).setDefaultAddress(requireCaller(caller), id),
  },
  Order: {
    // The gateway asks for an order's address only with an order the order subgraph answered, and it answers
    // an order only to its buyer, the owner of its factory or an admin (docs/architecture.md): may see the
    // order, may see where it ships. A deleted address still answers here (deletion is soft for this reason).
    shippingAddress: async (order, _args, { loaders }) => {
      const address = isId(order.addressId) ? await loaders.address.load(order.addressId) : null;
      if (!address) throw notFound("The order's shipping address does not exist");
      return address;
    },
  },
  Address: {
    __resolveReference: async (ref, { loaders, caller }) => {
      const address = isId(ref.id) ? await loaders.address.load(ref.id) : null;
      return address && !address.deletedAt && canSee(caller, address) ? address : null;
    },
  },
};
