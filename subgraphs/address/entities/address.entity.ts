import { Entity, OptionalProps, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/** A user's shipping address; each user with (undeleted) addresses has exactly one default. */
@Entity({ tableName: 'addresses' })
@Unique({
  name: 'addresses_one_default_per_user',
  expression: 'create unique index "addresses_one_default_per_user" on "addresses" ("user_id") where "is_default"',
})
export class Address {
  [OptionalProps]?: 'createdAt' | 'isDefault';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  userId!: string;

  /** The user's own name for it, e.g. "Rumah" or "Kantor". */
  @Property({ type: 'string', length: 60, nullable: true })
  label?: string | null;

  @Property({ type: 'string', length: 120 })
  recipientName!: string;

  @Property({ type: 'string', length: 20 })
  phone!: string;

  @Property({ type: 'string', length: 200 })
  line1!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  line2?: string | null;

  @Property({ type: 'string', length: 120 })
  city!: string;

  @Property({ type: 'string', length: 120 })
  province!: string;

  @Property({ type: 'string', length: 5 })
  postalCode!: string;

  @Property({ type: 'boolean', default: false })
  isDefault: boolean = false;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /**
   * Set when its owner deletes it. The row stays because orders already shipping here still show it
   * (`Order.shippingAddress`); everything else treats it as gone, and it is never the default.
   */
  @Property({ type: 'datetime', nullable: true })
  deletedAt?: Date | null;
}
