import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Wrong codes a phone entered in its current day (from its first wrong code), across all its codes: a new
 * code does not reset it, a successful sign-in does. Read and written under a row lock (service.ts).
 */
@Entity({ tableName: 'otp_failures' })
export class OtpFailureBudget {
  @PrimaryKey({ type: 'string', length: 16 })
  phone!: string;

  @Property({ type: 'datetime' })
  windowStart!: Date;

  @Property({ type: 'integer', default: 0 })
  failures!: number;

  /** No verify or request for this phone before this moment (backoff, or the day's budget spent). */
  @Property({ type: 'datetime', nullable: true })
  retryAt?: Date | null;
}
