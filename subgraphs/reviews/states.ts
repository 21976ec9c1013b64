import type { Transitions } from '../../lib/state-machine';

export type ReviewStatus = 'VISIBLE' | 'HIDDEN';

/** A review is shown until an admin hides it; hiding is final (the row stays, with who hid it and why). */
export const REVIEW_TRANSITIONS: Transitions<ReviewStatus> = {
  VISIBLE: ['HIDDEN'],
  HIDDEN: [],
};
