import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every review status change, written by a trigger on `reviews`. */
export const ReviewStatusChange = statusHistoryEntity('ReviewStatusChange', 'review_status_history', 'review_id');
export type ReviewStatusChange = StatusChange;
