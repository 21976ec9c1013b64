import type { Mismatch } from '../../lib/contracts/reconciliation';

/** A payout of ours, as reconciliation compares it. */
export interface PayoutFact {
  id: string;
  amount: number;
  status: string;
  xenditPayoutId: string | null;
}

/** A payout as Xendit lists it under a reference id (ours is the payout id). */
export interface XenditPayoutFact {
  id: string;
  referenceId: string;
  amount: number;
  status: string;
}

/** Xendit's statuses of a payout on its way, all of which we keep as ACCEPTED (REQUESTED until it is recorded). */
const IN_FLIGHT_AT_XENDIT = ['ACCEPTED', 'REQUESTED', 'LOCKED'];
const IN_FLIGHT_HERE = ['ACCEPTED', 'REQUESTED'];
/** Statuses that say Xendit has the payout: it was accepted, paid, or paid and returned. */
const SENT_HERE = ['ACCEPTED', 'SUCCEEDED', 'REVERSED'];

/**
 * Each payout of ours is at most one payout at Xendit (under its reference id), with its amount and status; one
 * that says Xendit has it is there. A FAILED or CANCELLED payout Xendit never made (refused at create) moved no
 * money, so its absence is no mismatch.
 */
export function matchPayouts(payouts: PayoutFact[], atXendit: Map<string, XenditPayoutFact[]>): Mismatch[] {
  const mismatches: Mismatch[] = [];
  for (const payout of payouts) {
    const remote = atXendit.get(payout.id) ?? [];
    const mismatch = (kind: Mismatch['kind'], detail: string, xenditId = remote[0]?.id ?? payout.xenditPayoutId) =>
      mismatches.push({ kind, id: payout.id, xenditId: xenditId ?? null, detail });
    if (remote.length === 0) {
      if (payout.xenditPayoutId || SENT_HERE.includes(payout.status))
        mismatch('PAYOUT_NOT_AT_XENDIT', `Payout ${payout.id} is ${payout.status}, Xendit has no payout for it`);
      continue;
    }
    if (remote.length > 1) {
      mismatch(
        'PAYOUT_DUPLICATED_AT_XENDIT',
        `Xendit has ${remote.length} payouts for payout ${payout.id}: ${remote.map((r) => r.id).join(', ')}`,
      );
      continue;
    }
    const [theirs] = remote;
    if (payout.xenditPayoutId && payout.xenditPayoutId !== theirs.id)
      mismatch(
        'PAYOUT_NOT_AT_XENDIT',
        `Payout ${payout.id} names Xendit payout ${payout.xenditPayoutId}, Xendit's for it is ${theirs.id}`,
      );
    if (theirs.amount !== payout.amount)
      mismatch(
        'PAYOUT_AMOUNT_DIFFERS',
        `Payout ${payout.id} is ${payout.amount}, Xendit's ${theirs.id} is ${theirs.amount}`,
      );
    const inFlight = IN_FLIGHT_AT_XENDIT.includes(theirs.status) && IN_FLIGHT_HERE.includes(payout.status);
    if (!inFlight && theirs.status !== payout.status)
      mismatch(
        'PAYOUT_STATUS_DIFFERS',
        `Payout ${payout.id} is ${payout.status}, Xendit's ${theirs.id} is ${theirs.status}`,
      );
  }
  return mismatches;
}
