import type { Resolvers } from './generated/graphql';
import { AddressService, canSee } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';

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
  Address: {
    __resolveReference: async (ref, { loaders, caller }) => {
      const address = isId(ref.id) ? await loaders.address.load(ref.id) : null;
      return address && canSee(caller, address) ? address : null;
    },
  },
};
