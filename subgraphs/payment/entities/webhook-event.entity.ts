import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/**
 * Every Xendit callback accepted, once per `dedupeKey` (invoice id + status, refund id + status). The
 * row is written in the transaction that applies the event, so an event is either applied and
 * recorded or neither.
 */
@Entity({ tableName: 'webhook_events' })
export class WebhookEvent {
  [OptionalProps]?: 'receivedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'string', length: 200, unique: true })
  dedupeKey!: string;

  @Property({ type: 'string', length: 20 })
  source!: 'invoice' | 'refund';

  /** Xendit's invoice or refund id. */
  @Property({ type: 'string', length: 100 })
  externalId!: string;

  @Property({ type: 'string', length: 40 })
  status!: string;

  @Property({ type: 'uuid', nullable: true })
  paymentId?: string | null;

  /** APPLIED, IGNORED (no legal transition), UNMATCHED (no such invoice/refund here), REJECTED (bad amount). */
  @Property({ type: 'string', length: 20 })
  outcome!: string;

  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  receivedAt: Date = new Date();
}
