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
  'REVIEW_REQUESTED',
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

/**
 * notification's own outbox (caller and callee are notification): sends a stored owner's notice on WhatsApp
 * (phone from auth, then `SEND_TEMPLATE_PATH` through the outbox), so the in-app notice never waits on either.
 */
export const noticeWhatsAppPath = (notificationId: string) => `/api/notifications/${notificationId}/whatsapp`;
