import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { NotificationType } from '../../../lib/contracts/notification';

/** An in-app message for one user; `dedupeKey` makes every sender's retries land once. */
@Entity({ tableName: 'notifications' })
@Index({ properties: ['userId', 'id'] })
export class Notification {
  [OptionalProps]?: 'createdAt' | 'readAt' | 'data';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'string', length: 200, unique: true })
  dedupeKey!: string;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'string', length: 40 })
  type!: NotificationType;

  @Property({ type: 'string', length: 200 })
  title!: string;

  @Property({ type: 'text' })
  body!: string;

  /** Ids the client can link to (payment, order, session …). */
  @Property({ type: 'json', nullable: true })
  data?: Record<string, unknown> | null;

  @Property({ type: 'datetime', nullable: true })
  readAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
