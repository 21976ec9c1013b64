/**
 * The internal REST contract of warehouse (3011, docs/internal-api.md): an order's stock, declared once and
 * imported by warehouse's rest.ts and by order. Each call is idempotent per orderId.
 */

/** `{ orderId, items: [{ variantId, quantity }] }`: all or nothing; 409 CONFLICT when no warehouse has enough. */
export const INVENTORY_RESERVE_PATH = '/api/inventory/reserve';
export interface InventoryReserveRequest {
  orderId: string;
  items: { variantId: string; quantity: number }[];
}

/** The order was paid: its reserved units leave the warehouse (RESERVED → COMMITTED). */
export const INVENTORY_COMMIT_PATH = '/api/inventory/commit';
/** The order will not be paid: its reserved units are available again (RESERVED → RELEASED). */
export const INVENTORY_RELEASE_PATH = '/api/inventory/release';
/**
 * The order was cancelled after payment: every unit goes back to the warehouse it was taken from, once,
 * whether it was still reserved (RESERVED → RELEASED) or had already left (COMMITTED → RESTOCKED). A commit
 * arriving after it finds nothing reserved and changes nothing.
 */
export const INVENTORY_RESTOCK_PATH = '/api/inventory/restock';

/** The body of commit, release and restock. */
export interface InventoryOrderRequest {
  orderId: string;
}

export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'RESTOCKED';

/** Every call answers the order's reservations as they are after it. */
export interface InventoryAnswer {
  reservations: {
    id: string;
    orderId: string;
    warehouseId: string;
    variantId: string;
    quantity: number;
    status: ReservationStatus;
  }[];
}
