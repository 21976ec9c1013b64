import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import { moneyType } from '../../../lib/money';
import type { TraceCarrier } from '../../../lib/telemetry';
import type { EarningsStatus, EscrowStatus, PaymentStatus, RefundDestination } from '../states';

/**
 * One Xendit invoice and what became of it. Regular payments are keyed by `orderId`, escrow payments
 * (group buying) by `participantId`; both keys are unique so a retried create finds the first row.
 */
@Entity({ tableName: 'payments' })
export class Payment {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'currency' | 'status' | 'refundTo';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  userId!: string;

  /** The regular order it pays, or the bulk order an escrow payment was linked to. */
  @Property({ type: 'uuid', nullable: true, unique: true })
  orderId?: string | null;

  @Index()
  @Property({ type: 'uuid', nullable: true })
  sessionId?: string | null;

  @Property({ type: 'uuid', nullable: true, unique: true })
  participantId?: string | null;

  /** The factory owed the money; required of every new payment (null only on rows from before that rule). */
  @Property({ type: 'uuid', nullable: true })
  factoryId?: string | null;

  @Property({ type: 'boolean' })
  isInEscrow!: boolean;

  /** IDR, integer rupiah. */
  @Property({ type: moneyType() })
  amount!: number;

  @Property({ type: 'string', length: 3 })
  currency: string = 'IDR';

  @Property({ type: 'string', length: 500 })
  description!: string;

  @Property({ type: 'string', length: 20 })
  status: PaymentStatus = 'PENDING';

  /** Null for regular payments. */
  @Property({ type: 'string', length: 20, nullable: true })
  escrowStatus?: EscrowStatus | null;

  /** Regular payments once paid: the factory's money waits PENDING until the order is delivered (AVAILABLE) or refunded. */
  @Property({ type: 'string', length: 20, nullable: true })
  earningsStatus?: EarningsStatus | null;

  @Property({ type: 'string', length: 20 })
  refundTo: RefundDestination = 'ORIGINAL_METHOD';

  @Property({ type: 'string', length: 100, nullable: true, unique: true })
  invoiceId?: string | null;

  @Property({ type: 'text', nullable: true })
  invoiceUrl?: string | null;

  /** Escrow only: the session's end; the invoice never outlives it. */
  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  paidAt?: Date | null;

  /** When the money became the factory's: escrow released, or a regular order delivered. */
  @Property({ type: 'datetime', nullable: true })
  releasedAt?: Date | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /** The request id and trace context it was created under: its callbacks' work links to that trace. */
  @Property({ type: 'json', nullable: true })
  traceContext?: TraceCarrier | null;

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
