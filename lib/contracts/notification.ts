/** notification (3007): `POST /api/notifications`, the one contract every sender and the receiver import. */
export const NOTIFICATION_TYPES = [
  'PAYMENT_SUCCEEDED',
  'PAYMENT_FAILED',
  'REFUND_COMPLETED',
  'ESCROW_RELEASED',
  'SESSION_MOQ_REACHED',
  'SESSION_FAILED',
  'ORDER_SHIPPED',
  'ORDER_DELIVERED',
  'SHIPMENT_UPDATED',
  'ORDER_RECEIVED',
  'ORDER_CANCELLED',
  'PAYOUT_SUCCEEDED',
  'PAYOUT_FAILED',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const NOTIFICATIONS_PATH = '/api/notifications';

/** Exactly one of `userId` (the recipient) or `factoryId` (its owner is the recipient, resolved by notification). */
export type NotificationRequest = {
  dedupeKey: string;
  type: NotificationType;
  title: string;
  body: string;
  data?: Record<string, unknown> | null;
} & ({ userId: string; factoryId?: never } | { factoryId: string; userId?: never });

export interface NotificationCreated {
  id: string;
}
