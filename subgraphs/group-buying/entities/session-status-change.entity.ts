import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every group-buying session status change, written by a trigger on `group_buying_sessions`. */
export const SessionStatusChange = statusHistoryEntity(
  'SessionStatusChange',
  'group_buying_session_status_history',
  'session_id',
);
export type SessionStatusChange = StatusChange;
