import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every order status change, written by a trigger on `orders`. */
export const OrderStatusChange = statusHistoryEntity('OrderStatusChange', 'order_status_history', 'order_id');
export type OrderStatusChange = StatusChange;
