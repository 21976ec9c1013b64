import { canTransition } from '../../lib/state-machine';
import { fulfilmentSteps, ORDER_TRANSITIONS, type OrderStatus, STATUS_AFTER_PAYMENT } from './states';

const ALL = Object.keys(ORDER_TRANSITIONS) as OrderStatus[];
const allowed = (from: OrderStatus) => ALL.filter((to) => canTransition(ORDER_TRANSITIONS, from, to));

describe('order state machine', () => {
  it('follows DESIGN.md §4 and nothing else', () => {
    expect(Object.fromEntries(ALL.map((s) => [s, allowed(s)]))).toEqual({
      PENDING_PAYMENT: ['PAID', 'CANCELLED'],
      PAID: ['PROCESSING', 'REFUNDED'],
      PROCESSING: ['SHIPPED', 'REFUNDED'],
      SHIPPED: ['DELIVERED'],
      DELIVERED: [],
      CANCELLED: [],
      REFUNDED: [],
    });
  });

  it('never lets a late payment failure cancel a paid order', () => {
    expect(canTransition(ORDER_TRANSITIONS, 'PAID', STATUS_AFTER_PAYMENT.EXPIRED)).toBe(false);
    expect(canTransition(ORDER_TRANSITIONS, 'PAID', STATUS_AFTER_PAYMENT.FAILED)).toBe(false);
  });

  it('walks the fulfilment path forwards only', () => {
    expect(fulfilmentSteps('PAID', 'SHIPPED')).toEqual(['PROCESSING', 'SHIPPED']);
    expect(fulfilmentSteps('PROCESSING', 'DELIVERED')).toEqual(['SHIPPED', 'DELIVERED']);
    expect(fulfilmentSteps('DELIVERED', 'SHIPPED')).toBeNull();
    expect(fulfilmentSteps('PENDING_PAYMENT', 'SHIPPED')).toBeNull();
    expect(fulfilmentSteps('SHIPPED', 'SHIPPED')).toBeNull();
  });
});
