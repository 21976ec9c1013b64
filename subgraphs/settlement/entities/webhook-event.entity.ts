import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/**
 * Every Xendit payout callback received with a valid token (and every outcome the reconciliation read from
 * Xendit instead), written in the transaction that applies it. Its `dedupeKey` (the `webhook-id` header when
 * Xendit sends one, else payout id + status) is unique among RECEIVED and APPLIED rows only: a refused or
 * ignored delivery is kept for the record without taking the key from a genuine one that may follow.
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

  /** Xendit's payout id. */
  @Property({ type: 'string', length: 100 })
  externalId!: string;

  @Property({ type: 'string', length: 40 })
  status!: string;

  @Property({ type: 'uuid', nullable: true })
  payoutId?: string | null;

  /**
   * RECEIVED (being applied), APPLIED, IGNORED (no legal transition, or a status we do not act on),
   * UNMATCHED (no such payout here), REJECTED (amount or currency not the payout's).
   */
  @Property({ type: 'string', length: 20 })
  outcome!: string;

  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  receivedAt: Date = new Date();
}
