import type { Transitions } from '../../lib/state-machine';

export type OrderStatus =
  'PENDING_PAYMENT' | 'PAID' | 'PROCESSING' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'REFUNDED';
export type OrderSource = 'REGULAR' | 'GROUP_BUYING';

/**
 * DESIGN.md §4: the order's life, as data. Only an unpaid order can be cancelled (a paid one is
 * refunded), so a late EXPIRED callback can never cancel a paid order and release committed stock. A paid
 * order can be refunded until its parcel leaves the factory (PAID or PROCESSING, shipment still PENDING).
 */
export const ORDER_TRANSITIONS: Transitions<OrderStatus> = {
  PENDING_PAYMENT: ['PAID', 'CANCELLED'],
  PAID: ['PROCESSING', 'REFUNDED'],
  PROCESSING: ['SHIPPED', 'REFUNDED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
  REFUNDED: [],
};

export type PaymentOutcome = 'PAID' | 'EXPIRED' | 'FAILED' | 'REFUNDED';

/** What the payment service's outcome means for the order. */
export const STATUS_AFTER_PAYMENT: Record<PaymentOutcome, OrderStatus> = {
  PAID: 'PAID',
  EXPIRED: 'CANCELLED',
  FAILED: 'CANCELLED',
  REFUNDED: 'REFUNDED',
};

/** The fulfilment path; a shipment update walks it step by step so every step is a legal transition. */
export const FULFILMENT_PATH: readonly OrderStatus[] = ['PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED'];

/** The steps from `from` to `to` along the fulfilment path, or null when `to` is not ahead of `from`. */
export function fulfilmentSteps(from: OrderStatus, to: OrderStatus): OrderStatus[] | null {
  const start = FULFILMENT_PATH.indexOf(from);
  const end = FULFILMENT_PATH.indexOf(to);
  if (start < 0 || end <= start) return null;
  return FULFILMENT_PATH.slice(start + 1, end + 1);
}
