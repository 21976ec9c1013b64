import { withFilter } from 'graphql-subscriptions';
import type { Resolvers } from './generated/graphql';
import { GroupBuyingService } from './service';
import { createLoaders, type GroupBuyingContext, participationKey } from './loaders';
import { progressPercent } from './states';
import { SESSION_PROGRESS, type SessionProgressEvent, progressEvent, sessionFromEvent } from './session-store';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { notFound } from '../../lib/errors';
import { isId } from '../../lib/ids';

const service = (ctx: GroupBuyingContext) => new GroupBuyingService(ctx.em, ctx.client, ctx.config, ctx.logger);

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    groupBuyingSession: (_root, { id }, ctx) => service(ctx).session(id),
    groupBuyingSessions: (_root, args, ctx) =>
      service(ctx).listSessions(
        { status: args.status, productId: args.productId, factoryId: args.factoryId },
        { first: args.first, after: args.after },
      ),
  },
  Mutation: {
    createGroupBuyingSession: (_root, { input }, ctx) => service(ctx).createSession(requireCaller(ctx.caller), input),
    joinGroupBuyingSession: (_root, { input }, ctx) => service(ctx).joinSession(requireCaller(ctx.caller), input),
    cancelGroupBuyingSession: (_root, { sessionId }, ctx) =>
      service(ctx).cancelSession(requireCaller(ctx.caller), sessionId),
    startProduction: (_root, { sessionId }, ctx) => service(ctx).startProduction(requireCaller(ctx.caller), sessionId),
    completeProduction: (_root, { sessionId }, ctx) =>
      service(ctx).completeProduction(requireCaller(ctx.caller), sessionId),
  },
  Subscription: {
    groupBuyingSessionProgress: {
      subscribe: async (root, args, ctx, info) => {
        await service(ctx).requireSession(args.sessionId);
        // Events sent while the LISTEN connection was lost are gone: the subscriber gets the session as it is now.
        const resync = async () => {
          const session = await service({ ...ctx, em: ctx.em.fork() }).session(args.sessionId);
          return session && { ...progressEvent(session) };
        };
        return withFilter(
          () => ctx.events!.subscribe(SESSION_PROGRESS, resync),
          (event?: Record<string, unknown>, vars?: { sessionId: string }) => event?.id === vars?.sessionId,
        )(root, args, ctx, info);
      },
      resolve: (event: SessionProgressEvent, _args: unknown, ctx: GroupBuyingContext) => {
        // The context lives as long as the subscription: fresh loaders per event keep myParticipation current.
        ctx.loaders = createLoaders(ctx.em.fork());
        return sessionFromEvent(event);
      },
    },
  },
  GroupBuyingSession: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.session.load(ref.id) : null),
    progressPercent: (session) => progressPercent(session.paidQuantity, session.moq),
    product: (session) => ({ id: session.productId }),
    variant: (session) => ({ id: session.variantId }),
    factory: (session) => ({ id: session.factoryId }),
    myParticipation: (session, _args, { caller, loaders }) =>
      caller ? loaders.participation.load(participationKey(session.id, caller.userId)) : null,
  },
  GroupParticipant: {
    session: async (participant, _args, { loaders }) => {
      const session = await loaders.session.load(participant.sessionId);
      if (!session) throw notFound('The session of this participant is missing');
      return session;
    },
  },
};
