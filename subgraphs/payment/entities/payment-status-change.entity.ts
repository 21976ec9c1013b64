import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every payment status change, written by a trigger on `payments`. */
export const PaymentStatusChange = statusHistoryEntity('PaymentStatusChange', 'payment_status_history', 'payment_id');
export type PaymentStatusChange = StatusChange;
