import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Notification } from './entities/notification.entity';
import { isAppError, notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { publishOnCommit } from '../../lib/events';
import type { Caller } from '../../lib/internal-auth';
import { isId, newId } from '../../lib/ids';
import { asFieldInput } from '../../lib/downstream';
import type { InternalClient } from '../../lib/internal-client';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { enqueue } from '../../lib/outbox';
import { type AuthUser, authUserPath } from '../../lib/contracts/auth';
import {
  factoryPath,
  type FactorySnapshot,
  SEND_TEMPLATE_PATH,
  type SendTemplateRequest,
} from '../../lib/contracts/seller';
import {
  NOTIFICATION_TYPES,
  noticeWhatsAppPath,
  type NotificationCreated,
  type NotificationType,
} from '../../lib/contracts/notification';

export const NOTIFICATION_ADDED = 'notification_added';

/** Notices a factory owner also gets on WhatsApp (sent with `factoryId`): new orders, session outcomes, payouts. */
export const OWNER_WHATSAPP_TYPES: ReadonlySet<NotificationType> = new Set([
  'ORDER_RECEIVED',
  'SESSION_MOQ_REACHED',
  'SESSION_FAILED',
  'PAYOUT_SUCCEEDED',
  'PAYOUT_FAILED',
]);

/**
 * Buyer notices that also go out on WhatsApp, each with its own approved template (title and body as its
 * parameters); every other notice uses WHATSAPP_NOTICE_TEMPLATE.
 */
export const BUYER_WHATSAPP_TEMPLATES: Partial<Record<NotificationType, string>> = {
  REVIEW_REQUESTED: 'review_request',
};

const createSchema = z
  .object({
    dedupeKey: nonEmpty(200),
    userId: idSchema.optional(),
    factoryId: idSchema.optional(),
    type: z.enum(NOTIFICATION_TYPES),
    title: nonEmpty(200),
    body: nonEmpty(2000),
    data: z.record(z.unknown()).nullish(),
  })
  .refine((p) => (p.userId === undefined) !== (p.factoryId === undefined), {
    message: 'exactly one of userId and factoryId',
    path: ['userId'],
  });

/** What creating a notification needs besides its database: the factory and auth subgraphs, the template name. */
export interface NotificationDeps {
  client: InternalClient;
  config: Pick<Config, 'WHATSAPP_NOTICE_TEMPLATE'>;
  logger: Logger;
}

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
  constructor(
    private readonly em: EntityManager,
    private readonly deps?: NotificationDeps,
  ) {}

  /**
   * POST /api/notifications — once per dedupeKey. A notice for a factory goes to its owner (asked of the
   * factory subgraph before the transaction; an unknown factory is 400, so the sender's outbox gives up).
   * The insert either wins (its event goes out when it commits) or finds the row an earlier call made, and
   * both answer its id. An owner's notice also queues, in the same transaction, its WhatsApp copy on this
   * service's own outbox (see sendToWhatsApp), so the in-app notice never waits on auth or WhatsApp; so does a
   * buyer's notice with its own template (BUYER_WHATSAPP_TEMPLATES).
   */
  async create(input: unknown): Promise<NotificationCreated> {
    const p = parseInput(createSchema, input);
    const earlier = await this.em.findOne(Notification, { dedupeKey: p.dedupeKey });
    if (earlier) return { id: earlier.id };
    const recipient = p.factoryId ? await this.ownerOf(p.factoryId) : p.userId!;
    const data = p.factoryId ? { ...(p.data ?? {}), factoryId: p.factoryId } : (p.data ?? null);
    return this.em.transactional(async (tx) => {
      const rows = await tx.execute(
        `insert into notifications (id, dedupe_key, user_id, type, title, body, data, created_at)
         values (?, ?, ?, ?, ?, ?, ?, now()) on conflict (dedupe_key) do nothing returning *`,
        [newId(), p.dedupeKey, recipient, p.type, p.title, p.body, data ? JSON.stringify(data) : null],
      );
      if (rows[0]) {
        const row = tx.map(Notification, rows[0]);
        await publishOnCommit(tx, NOTIFICATION_ADDED, notificationEvent(row));
        if (p.factoryId ? OWNER_WHATSAPP_TYPES.has(p.type) : BUYER_WHATSAPP_TEMPLATES[p.type]) {
          await enqueue(tx, {
            dedupeKey: `owner-whatsapp:${row.id}`,
            service: 'notification',
            path: noticeWhatsAppPath(row.id),
            body: {},
          });
        }
        return { id: row.id };
      }
      const existing = await tx.findOneOrFail(Notification, { dedupeKey: p.dedupeKey });
      return { id: existing.id };
    });
  }

  /**
   * POST /api/notifications/:id/whatsapp (this service's own outbox, queued by create): looks up the
   * recipient's phone in auth, then enqueues `POST whatsapp SEND_TEMPLATE_PATH` with the notice's title and
   * body as the template's parameters. Idempotent per notification; a recipient auth does not know gets the
   * in-app notice only (logged).
   */
  async sendToWhatsApp(id: string): Promise<{ id: string; whatsapp: 'QUEUED' | 'NO_PHONE' }> {
    const notification = isId(id) ? await this.em.findOne(Notification, { id }) : null;
    if (!notification) throw notFound('No such notification');
    const phone = await this.phoneOf(notification.userId);
    if (!phone) return { id, whatsapp: 'NO_PHONE' };
    const message: SendTemplateRequest = {
      dedupeKey: `notification:${notification.id}`,
      to: phone,
      template: BUYER_WHATSAPP_TEMPLATES[notification.type] ?? this.requireDeps().config.WHATSAPP_NOTICE_TEMPLATE,
      parameters: [notification.title, notification.body],
    };
    await this.em.transactional(async (tx) => {
      await enqueue(tx, {
        dedupeKey: `whatsapp:${notification.id}`,
        service: 'whatsapp',
        path: SEND_TEMPLATE_PATH,
        body: { ...message },
      });
    });
    return { id, whatsapp: 'QUEUED' };
  }

  private async ownerOf(factoryId: string): Promise<string> {
    const factory = this.requireDeps().client.get<FactorySnapshot>('factory', factoryPath(factoryId));
    return (await asFieldInput(factory, 'factoryId: no such factory')).ownerId;
  }

  private async phoneOf(userId: string): Promise<string | null> {
    const { client, logger } = this.requireDeps();
    try {
      return (await client.get<AuthUser>('auth', authUserPath(userId))).phone;
    } catch (error) {
      if (!(isAppError(error) && error.code === 'NOT_FOUND')) throw error;
      logger.warn({ userId }, 'recipient unknown to auth: notice stored in-app only, not sent on WhatsApp');
      return null;
    }
  }

  private requireDeps(): NotificationDeps {
    if (!this.deps) throw new Error('NotificationService needs its clients to create notifications');
    return this.deps;
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
