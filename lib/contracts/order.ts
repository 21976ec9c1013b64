/**
 * The internal REST contracts of fulfilment (docs/internal-api.md): order (3005) and logistics (3010), declared
 * once and imported by the callee's rest.ts and every caller.
 */

export type OrderStatus =
  'PENDING_PAYMENT' | 'PAID' | 'PROCESSING' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'REFUNDED';

/** order `GET`: what other services need of an order. */
export const orderPath = (orderId: string) => `/api/orders/${orderId}`;
export interface OrderSummary {
  id: string;
  userId: string;
  factoryId: string;
  status: OrderStatus;
  source: 'REGULAR' | 'GROUP_BUYING';
  sessionId: string | null;
  addressId: string;
  total: number;
}

/**
 * order `POST`: what reviews needs of orders (createReview, `Order.reviewable`): buyer, factory, status and the
 * items as bought. Ids order does not know are left out of the answer.
 */
export const ORDERS_FOR_REVIEW_PATH = '/api/orders/for-review';
export interface OrdersForReviewRequest {
  orderIds: string[];
}
export interface OrderForReview {
  id: string;
  userId: string;
  factoryId: string;
  status: OrderStatus;
  items: { productId: string; variantId: string; productName: string; variantName: string }[];
}
export interface OrdersForReviewAnswer {
  orders: OrderForReview[];
}

/**
 * order `POST`: the order follows its shipment (PICKED_UP → SHIPPED, DELIVERED → DELIVERED). Answers the
 * OrderSummary; a repeat answers the same; 409 CONFLICT when the order cannot follow (cancelled meanwhile):
 * logistics asks this before a pick-up and refuses the pick-up then.
 */
export const orderShipmentStatusPath = (orderId: string) => `/api/orders/${orderId}/shipment-status`;
export interface OrderShipmentStatusRequest {
  status: 'SHIPPED' | 'DELIVERED';
}

/** logistics `POST`: one PENDING shipment per order; a repeat creates nothing and answers the existing ones. */
export const SHIPMENTS_BULK_PATH = '/api/shipments/bulk';
export interface ShipmentsBulkRequest {
  shipments: { orderId: string; userId: string; factoryId: string; addressId: string }[];
}
export interface ShipmentsBulkAnswer {
  shipments: { id: string; orderId: string }[];
}

/**
 * logistics `POST`: the order was cancelled before pick-up, so its PENDING shipment is CANCELLED. Idempotent;
 * `shipment` null when the order has none (yet: one created later cannot be picked up, order refuses it);
 * 409 CONFLICT when the parcel has already left.
 */
export const SHIPMENT_CANCEL_PATH = '/api/shipments/cancel';
export interface ShipmentCancelRequest {
  orderId: string;
}
export interface ShipmentCancelAnswer {
  shipment: { id: string; status: string } | null;
}
