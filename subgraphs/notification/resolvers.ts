import { withFilter } from 'graphql-subscriptions';
import type { Resolvers } from './generated/graphql';
import { NOTIFICATION_ADDED, NotificationService } from './service';
import type { Notification } from './entities/notification.entity';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';
import type { NotificationContext } from './loaders';

type NotificationEvent = Record<string, unknown> & { userId?: string };

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    myNotifications: (_root, args, { em, caller }) =>
      new NotificationService(em).mine(
        requireCaller(caller),
        { unreadOnly: args.unreadOnly },
        { first: args.first, after: args.after },
      ),
    notification: (_root, { id }, { em, caller }) => new NotificationService(em).own(requireCaller(caller), id),
  },
  Mutation: {
    markNotificationRead: (_root, { id }, { em, caller }) =>
      new NotificationService(em).markRead(requireCaller(caller), id),
  },
  Subscription: {
    notificationAdded: {
      // Every replica hears every notification (LISTEN/NOTIFY); each subscriber gets only its own.
      subscribe: (root, args, ctx: NotificationContext, info) => {
        const caller = requireCaller(ctx.caller);
        return withFilter(
          () => ctx.events!.subscribe(NOTIFICATION_ADDED),
          (event?: NotificationEvent) => event?.userId === caller.userId,
        )(root, args, ctx, info);
      },
      resolve: (event: NotificationEvent) => event as unknown as Notification,
    },
  },
  Notification: {
    __resolveReference: async (ref, { loaders, caller }) => {
      const notification = isId(ref.id) ? await loaders.notification.load(ref.id) : null;
      return notification && notification.userId === caller?.userId ? notification : null;
    },
  },
};
