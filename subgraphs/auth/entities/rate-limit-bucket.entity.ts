// Named without `.entity`: codegen maps `*.entity.ts` to GraphQL types of the same name, and this table has none.
import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/** A fixed-window counter (`phone:+62…`, `address:1.2.3.4`), shared by every auth replica. */
@Entity({ tableName: 'otp_rate_limits' })
export class RateLimitBucket {
  @PrimaryKey({ type: 'string', length: 120 })
  key!: string;

  @Property({ type: 'datetime' })
  windowStart!: Date;

  @Property({ type: 'integer' })
  hits!: number;
}
