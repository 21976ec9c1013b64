import { statusHistoryEntity, type StatusChange } from '../../../lib/status-history';

/** The audit trail of every participant status change, written by a trigger on `group_participants`. */
export const ParticipantStatusChange = statusHistoryEntity(
  'ParticipantStatusChange',
  'group_participant_status_history',
  'participant_id',
);
export type ParticipantStatusChange = StatusChange;
