// Named without `.entity`: codegen maps `*.entity.ts` to GraphQL types of the same name, and this table has none.
import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The one live code of a phone: a new request replaces it, so older codes die. Only the HMAC of the
 * code is stored. Written with single atomic statements (service.ts), never read-modify-write.
 */
@Entity({ tableName: 'otp_codes' })
export class OtpCode {
  @PrimaryKey({ type: 'string', length: 16 })
  phone!: string;

  /** Changes with every new code; part of the hash input, and what a failed send deletes. */
  @Property({ type: 'uuid' })
  challengeId!: string;

  @Property({ type: 'string', length: 64 })
  codeHash!: string;

  /** Verification attempts spent on this code, right or wrong. */
  @Property({ type: 'integer', default: 0 })
  attempts!: number;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  /** When this code was requested: the resend cool-down counts from here. */
  @Property({ type: 'datetime' })
  sentAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  consumedAt?: Date | null;
}
