import type { Transitions } from '../../lib/state-machine';
import type { PayoutOutcome } from '../../lib/contracts/seller';

export type PayoutStatus = 'REQUESTED' | 'ACCEPTED' | PayoutOutcome;

/**
 * DESIGN.md §4, Payout: REQUESTED → ACCEPTED → SUCCEEDED | FAILED | CANCELLED; SUCCEEDED → REVERSED. A
 * REQUESTED payout may also end straight away: Xendit refused the create (FAILED), or its outcome's callback
 * came before we recorded its acceptance (the process died in between). Nothing leaves FAILED, CANCELLED or
 * REVERSED, so a SUCCEEDED arriving after a FAILED changes nothing.
 */
export const PAYOUT_TRANSITIONS: Transitions<PayoutStatus> = {
  REQUESTED: ['ACCEPTED', 'SUCCEEDED', 'FAILED', 'CANCELLED'],
  ACCEPTED: ['SUCCEEDED', 'FAILED', 'CANCELLED'],
  SUCCEEDED: ['REVERSED'],
  FAILED: [],
  CANCELLED: [],
  REVERSED: [],
};

export const PAYOUT_OUTCOMES: readonly PayoutOutcome[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REVERSED'];

export function isPayoutOutcome(status: string): status is PayoutOutcome {
  return (PAYOUT_OUTCOMES as readonly string[]).includes(status);
}
