import type { Resolvers } from './generated/graphql';
import { FactoryService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    factory: (_root, { id }, { em }) => new FactoryService(em).factory(id),
    factories: (_root, args, { em }) => new FactoryService(em).listFactories({ first: args.first, after: args.after }),
    myFactories: (_root, _args, { em, caller }) => new FactoryService(em).ownedBy(requireCaller(caller).userId),
  },
  Mutation: {
    createFactory: (_root, { input }, { em, caller }) =>
      new FactoryService(em).createFactory(requireCaller(caller), input),
    updateFactory: (_root, { id, input }, { em, caller }) =>
      new FactoryService(em).updateFactory(requireCaller(caller), id, input),
    verifyFactory: (_root, { factoryId }, { em, caller }) =>
      new FactoryService(em).verifyFactory(requireCaller(caller), factoryId),
  },
  Factory: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.factory.load(ref.id) : null),
    owner: (factory) => ({ id: factory.ownerId! }),
  },
};
