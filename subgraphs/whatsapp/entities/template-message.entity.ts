import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A template message asked for once per `dedupeKey` (POST /api/whatsapp/send-template). The first request's
 * content is what is sent; `claimedUntil` marks a send in flight, `messageId` a send the Cloud API accepted.
 */
@Entity({ tableName: 'template_messages' })
export class TemplateMessage {
  [OptionalProps]?: 'messageId' | 'claimedUntil' | 'sentAt' | 'createdAt';

  @PrimaryKey({ type: 'string', length: 200 })
  dedupeKey!: string;

  /** E.164. */
  @Property({ type: 'string', length: 20 })
  to!: string;

  @Property({ type: 'string', length: 512 })
  template!: string;

  @Property({ type: 'json' })
  parameters!: string[];

  @Property({ type: 'string', length: 200, nullable: true })
  messageId?: string | null;

  /** A sender is talking to the Cloud API until then; a crashed sender's claim lapses and the send is tried again. */
  @Property({ type: 'datetime', nullable: true })
  claimedUntil?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  sentAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
