import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueue } from './outbox';
import { NOTIFICATIONS_PATH, type NotificationRequest } from './contracts/notification';

/**
 * Tells someone something, through the caller's outbox in the caller's transaction: delivered after the
 * commit, retried until the notification service has it, once per `dedupeKey`. The one way every subgraph
 * notifies; pass `userId` for a buyer, or `factoryId` to reach whoever owns that factory.
 */
export async function notify(tx: EntityManager, notice: NotificationRequest): Promise<void> {
  await enqueue(tx, {
    dedupeKey: `notify:${notice.dedupeKey}`,
    service: 'notification',
    path: NOTIFICATIONS_PATH,
    body: { ...notice },
  });
}
