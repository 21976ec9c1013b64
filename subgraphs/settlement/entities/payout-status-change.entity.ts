import { statusHistoryEntity } from '../../../lib/status-history';

/** The payouts' audit trail, written by a trigger (lib/status-history.ts). */
export const PayoutStatusChange = statusHistoryEntity('PayoutStatusChange', 'payout_status_changes', 'payout_id');
