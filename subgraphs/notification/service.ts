import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Notification } from './entities/notification.entity';
import { notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { publishOnCommit } from '../../lib/events';
import type { Caller } from '../../lib/internal-auth';
import { isId, newId } from '../../lib/ids';

export const NOTIFICATION_TYPES = [
  'PAYMENT_SUCCEEDED',
  'PAYMENT_FAILED',
  'REFUND_COMPLETED',
  'ESCROW_RELEASED',
  'SESSION_MOQ_REACHED',
  'SESSION_FAILED',
  'ORDER_SHIPPED',
  'ORDER_DELIVERED',
  'SHIPMENT_UPDATED',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const NOTIFICATION_ADDED = 'notification_added';

const createSchema = z.object({
  dedupeKey: nonEmpty(200),
  userId: idSchema,
  type: z.enum(NOTIFICATION_TYPES),
  title: nonEmpty(200),
  body: nonEmpty(2000),
  data: z.record(z.unknown()).nullish(),
});

/** The event payload on `notification_added`: the row as the subscription serves it, plus its owner. */
export function notificationEvent(row: Notification) {
  return {
    id: row.id,
    userId: row.userId,
    type: row.type,
    title: row.title,
    body: row.body,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt?.toISOString() ?? null,
  };
}

export class NotificationService {
  constructor(private readonly em: EntityManager) {}

  /**
   * POST /api/notifications — once per dedupeKey: the insert either wins (and the event goes out when
   * it commits) or finds the row a previous call made, and both answer its id.
   */
  async create(input: unknown): Promise<{ id: string }> {
    const p = parseInput(createSchema, input);
    return this.em.transactional(async (tx) => {
      const rows = await tx.execute(
        `insert into notifications (id, dedupe_key, user_id, type, title, body, data, created_at)
         values (?, ?, ?, ?, ?, ?, ?, now()) on conflict (dedupe_key) do nothing returning *`,
        [newId(), p.dedupeKey, p.userId, p.type, p.title, p.body, p.data ? JSON.stringify(p.data) : null],
      );
      if (rows[0]) {
        const row = tx.map(Notification, rows[0]);
        await publishOnCommit(tx, NOTIFICATION_ADDED, notificationEvent(row));
        return { id: row.id };
      }
      const existing = await tx.findOneOrFail(Notification, { dedupeKey: p.dedupeKey });
      return { id: existing.id };
    });
  }

  mine(caller: Caller, filter: { unreadOnly?: boolean | null }, page: PageArgs) {
    return paginate(
      this.em,
      Notification,
      { userId: caller.userId, ...(filter.unreadOnly ? { readAt: null } : {}) },
      page,
      {
        newestFirst: true,
      },
    );
  }

  /** Someone else's notification is as good as missing. */
  async own(caller: Caller, id: string): Promise<Notification | null> {
    if (!isId(id)) return null;
    return this.em.findOne(Notification, { id, userId: caller.userId });
  }

  /** Sets readAt once; marking it again answers it unchanged. */
  async markRead(caller: Caller, id: string): Promise<Notification> {
    const parsedId = parseInput(idSchema, id);
    await this.em.nativeUpdate(
      Notification,
      { id: parsedId, userId: caller.userId, readAt: null },
      { readAt: new Date() },
    );
    const notification = await this.own(caller, parsedId);
    if (!notification) throw notFound('No such notification');
    return notification;
  }
}
