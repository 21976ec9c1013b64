import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every refund status change, written by a trigger on `refunds`. */
export const RefundStatusChange = statusHistoryEntity('RefundStatusChange', 'refund_status_history', 'refund_id');
export type RefundStatusChange = StatusChange;
