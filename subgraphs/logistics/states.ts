import type { Transitions } from '../../lib/state-machine';
import type { NotificationType } from '../../lib/contracts/notification';

export const SHIPMENT_STATUSES = ['PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

/**
 * DESIGN.md §4: a parcel only moves forward, one step at a time; one whose order is cancelled before the
 * courier picks it up never leaves (PENDING → CANCELLED).
 */
export const SHIPMENT_TRANSITIONS: Transitions<ShipmentStatus> = {
  PENDING: ['PICKED_UP', 'CANCELLED'],
  PICKED_UP: ['IN_TRANSIT'],
  IN_TRANSIT: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

/** What the order is told when its shipment reaches a status (docs/internal-api.md), if anything. */
export const ORDER_STATUS_FOR: Partial<Record<ShipmentStatus, 'SHIPPED' | 'DELIVERED'>> = {
  PICKED_UP: 'SHIPPED',
  DELIVERED: 'DELIVERED',
};

/** The buyer's notification for each status a courier moves a shipment to (a cancel is the order's to tell). */
export const BUYER_NOTICE: Partial<Record<ShipmentStatus, { type: NotificationType; title: string; body: string }>> = {
  PICKED_UP: { type: 'ORDER_SHIPPED', title: 'Your order has shipped', body: 'The courier picked up your parcel' },
  IN_TRANSIT: { type: 'SHIPMENT_UPDATED', title: 'Your parcel is on its way', body: 'Your parcel is in transit' },
  DELIVERED: { type: 'ORDER_DELIVERED', title: 'Your order was delivered', body: 'Your parcel was delivered' },
};
