import { withFilter } from 'graphql-subscriptions';
import type { Resolvers } from './generated/graphql';
import type { SettlementContext } from './loaders';
import { SettlementService } from './service';
import { PAYOUT_CHANNELS, maskAccountNumber } from './channels';
import { PAYOUT_UPDATED, type PayoutUpdatedEvent } from './payouts';
import { Payout } from './entities/payout.entity';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';

const service = (ctx: SettlementContext) =>
  new SettlementService(ctx.em, {
    client: ctx.client,
    config: ctx.config,
    gateway: ctx.services.gateway,
    logger: ctx.logger,
  });

/** Whether the caller may see the factory's money: its owner or an admin; anyone else (or nobody) may not. */
const mayManage = (ctx: SettlementContext, factoryId: string) =>
  ctx.caller ? ctx.loaders.factoryAccess.canManage(ctx.caller, factoryId) : Promise.resolve(false);

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    payoutChannels: () => PAYOUT_CHANNELS.map((channel) => ({ ...channel })),
  },
  Mutation: {
    setPayoutAccount: async (_root, { input }, ctx) => {
      const caller = requireCaller(ctx.caller);
      await ctx.loaders.factoryAccess.assertCanManage(caller, input.factoryId, 'this factory');
      return service(ctx).setPayoutAccount(caller.userId, input);
    },
    requestPayout: async (_root, { input }, ctx) => {
      const caller = requireCaller(ctx.caller);
      await ctx.loaders.factoryAccess.assertCanManage(caller, input.factoryId, 'this factory');
      return service(ctx).requestPayout(caller.userId, input);
    },
  },
  Subscription: {
    payoutUpdated: {
      subscribe: async (root, args, ctx, info) => {
        await ctx.loaders.factoryAccess.assertCanManage(requireCaller(ctx.caller), args.factoryId, 'this factory');
        return withFilter(
          () => ctx.events!.subscribe(PAYOUT_UPDATED),
          (event?: Record<string, unknown>, vars?: { factoryId: string }) => event?.factoryId === vars?.factoryId,
        )(root, args, ctx, info);
      },
      // The payout as it is now (a later change may already have committed), read in a fresh fork.
      resolve: (event: PayoutUpdatedEvent, _args: unknown, ctx: SettlementContext) =>
        ctx.em.fork().findOneOrFail(Payout, { id: event.payoutId }),
    },
  },
  Factory: {
    __resolveReference: (ref) => ({ id: ref.id }),
    payoutAccount: async (factory, _args, ctx) =>
      (await mayManage(ctx, factory.id!)) ? ctx.loaders.payoutAccount.load(factory.id!) : null,
    balance: async (factory, _args, ctx) =>
      (await mayManage(ctx, factory.id!)) ? service(ctx).balanceOf(factory.id!) : null,
    payouts: async (factory, args, ctx) => {
      await ctx.loaders.factoryAccess.assertCanManage(requireCaller(ctx.caller), factory.id!, 'this factory');
      return service(ctx).payouts(factory.id!, { first: args.first, after: args.after });
    },
  },
  PayoutAccount: {
    accountNumberMasked: (account) => maskAccountNumber(account.accountNumber!),
  },
  Payout: {
    accountNumberMasked: (payout) => maskAccountNumber(payout.accountNumber!),
  },
};
