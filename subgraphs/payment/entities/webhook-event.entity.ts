import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/**
 * Every Xendit callback received with a valid token. The row is written in the transaction that applies
 * the event, so an event is either applied and recorded or neither. Its `dedupeKey` (invoice id + status,
 * refund id + status) is unique among RECEIVED and APPLIED rows only: a refused or ignored delivery is
 * kept for the record without taking the key from the genuine one that may follow.
 */
@Entity({ tableName: 'webhook_events' })
@Unique({
  name: 'webhook_events_dedupe_key_settled_unique',
  expression: `create unique index "webhook_events_dedupe_key_settled_unique" on "webhook_events" ("dedupe_key") where "outcome" in ('RECEIVED', 'APPLIED')`,
})
export class WebhookEvent {
  [OptionalProps]?: 'receivedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'string', length: 200 })
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

  /**
   * RECEIVED (being applied), APPLIED, IGNORED (no legal transition or a status we do not act on),
   * UNMATCHED (no such invoice/refund here), REJECTED (amount or currency not the invoice's).
   */
  @Property({ type: 'string', length: 20 })
  outcome!: string;

  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  receivedAt: Date = new Date();
}
