/**
 * The internal REST contracts of the seller side (docs/internal-api.md): request and answer types and
 * paths, declared once and imported by the callee's rest.ts and by every caller.
 */

/** factory (3003) `GET /api/factories/:id`. */
export const factoryPath = (factoryId: string) => `/api/factories/${factoryId}`;
export interface FactorySnapshot {
  id: string;
  ownerId: string;
  name: string;
  city: string;
  verified: boolean;
}

/** payment (3006): a DELIVERED regular order's money becomes the factory's, less commission. Per order. */
export const orderDeliveredPath = (orderId: string) => `/api/payments/orders/${orderId}/delivered`;
export interface OrderEarnings {
  paymentId: string;
  factoryId: string;
  /** What the factory receives: amount − commission. */
  available: number;
  commission: number;
}

/**
 * payment (3006): refund an order's payment in full (regular: from the factory's pending money; group-buying:
 * from escrow while HELD). Per order; 409 CONFLICT once the money was made available or released.
 */
export const REFUND_ORDER_PATH = '/api/payments/refund-order';
export interface RefundOrderRequest {
  orderId: string;
  reason: string;
}
export interface RefundView {
  id: string;
  paymentId: string;
  amount: number;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  destination: 'ORIGINAL_METHOD' | 'WALLET';
}
export interface RefundOrderAnswer {
  refund: RefundView;
}

/**
 * payment (3006): moves `amount` from the factory's available money to in-payout, atomically against
 * concurrent reservations. Per payoutId (a replay answers the same; the same payoutId with another factory or
 * amount is 409 CONFLICT); 400 BAD_USER_INPUT when more than available (the message names the available amount)
 * or not a positive whole amount.
 */
export const PAYOUT_RESERVE_PATH = '/api/payments/payouts/reserve';
export interface PayoutReserveRequest {
  payoutId: string;
  factoryId: string;
  amount: number;
}
export interface PayoutReserveAnswer {
  payoutId: string;
  /** Available after the reservation. */
  available: number;
}

/**
 * payment (3006): books a reserved payout's outcome. Per (payoutId, outcome). SUCCEEDED: in-payout → paid out;
 * FAILED | CANCELLED: in-payout → available; REVERSED: paid out → available (of a payout still reserved, its
 * SUCCEEDED not delivered yet: both, and the later SUCCEEDED is a replay). 404 NOT_FOUND for a payout never
 * reserved; 409 CONFLICT for an outcome its history does not allow.
 */
export const PAYOUT_SETTLE_PATH = '/api/payments/payouts/settle';
export type PayoutOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REVERSED';
export interface PayoutSettleRequest {
  payoutId: string;
  outcome: PayoutOutcome;
}
export interface PayoutSettleAnswer {
  payoutId: string;
  outcome: PayoutOutcome;
}

/** payment (3006) `GET`: a factory's money, all from the ledger, integer IDR. */
export const factoryBalancePath = (factoryId: string) => `/api/payments/factories/${factoryId}/balance`;
export interface FactoryBalance {
  factoryId: string;
  /** Held escrow of its sessions plus paid regular orders not yet delivered. */
  pending: number;
  available: number;
  inPayout: number;
  paidOut: number;
  /** Platform commission taken so far (PLATFORM_FEE_BPS of each release). */
  commission: number;
  /** Everything ever released to it (escrow release + delivered orders), before commission. */
  released: number;
  currency: 'IDR';
}

/** whatsapp (3012): a template message (the owner's notices). Per dedupeKey. */
export const SEND_TEMPLATE_PATH = '/api/whatsapp/send-template';
export interface SendTemplateRequest {
  dedupeKey: string;
  /** E.164. */
  to: string;
  template: string;
  /** The template's body parameters, in order. */
  parameters: string[];
}
export interface SendTemplateAnswer {
  messageId: string;
}
