import { assertTransition, canTransition } from '../../lib/state-machine';
import { SHIPMENT_STATUSES, SHIPMENT_TRANSITIONS, type ShipmentStatus, ORDER_STATUS_FOR, BUYER_NOTICE } from './states';

describe('shipment state machine', () => {
  const path: ShipmentStatus[] = ['PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED'];

  it('allows exactly one step forward from each status, and CANCELLED only before pick-up', () => {
    for (const from of SHIPMENT_STATUSES) {
      for (const to of SHIPMENT_STATUSES) {
        const forward = path.includes(from) && path.indexOf(to) === path.indexOf(from) + 1;
        expect(canTransition(SHIPMENT_TRANSITIONS, from, to)).toBe(
          forward || (from === 'PENDING' && to === 'CANCELLED'),
        );
      }
    }
  });

  it('refuses a skipped step or a step back with CONFLICT', () => {
    expect(() => assertTransition(SHIPMENT_TRANSITIONS, 'PENDING', 'DELIVERED')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => assertTransition(SHIPMENT_TRANSITIONS, 'IN_TRANSIT', 'PICKED_UP')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it('tells the order once when it ships and once when it is delivered, and the buyer on every move', () => {
    expect(ORDER_STATUS_FOR).toEqual({ PICKED_UP: 'SHIPPED', DELIVERED: 'DELIVERED' });
    for (const to of path.slice(1)) expect(BUYER_NOTICE[to]).toBeDefined();
  });
});
