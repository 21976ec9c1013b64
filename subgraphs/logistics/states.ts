import type { Transitions } from '../../lib/state-machine';

export type ShipmentStatus = 'PENDING' | 'PICKED_UP' | 'IN_TRANSIT' | 'DELIVERED';

export const SHIPMENT_STATUSES = ['PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED'] as const;

/** DESIGN.md §4: a parcel only moves forward, one step at a time. */
export const SHIPMENT_TRANSITIONS: Transitions<ShipmentStatus> = {
  PENDING: ['PICKED_UP'],
  PICKED_UP: ['IN_TRANSIT'],
  IN_TRANSIT: ['DELIVERED'],
  DELIVERED: [],
};

/** What the order is told when its shipment reaches a status (docs/internal-api.md), if anything. */
export const ORDER_STATUS_FOR: Partial<Record<ShipmentStatus, 'SHIPPED' | 'DELIVERED'>> = {
  PICKED_UP: 'SHIPPED',
  DELIVERED: 'DELIVERED',
};

/** The buyer's notification for each status a shipment can move to. */
export const BUYER_NOTICE: Partial<Record<ShipmentStatus, { type: string; title: string; body: string }>> = {
  PICKED_UP: { type: 'ORDER_SHIPPED', title: 'Your order has shipped', body: 'The courier picked up your parcel' },
  IN_TRANSIT: { type: 'SHIPMENT_UPDATED', title: 'Your parcel is on its way', body: 'Your parcel is in transit' },
  DELIVERED: { type: 'ORDER_DELIVERED', title: 'Your order was delivered', body: 'Your parcel was delivered' },
};
