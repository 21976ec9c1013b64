import { matchPayouts, type PayoutFact, type XenditPayoutFact } from './reconciliation-rules';

const PAYOUT = '0193a000-0000-7000-8000-000000000021';

const ours = (overrides: Partial<PayoutFact> = {}): PayoutFact => ({
  id: PAYOUT,
  amount: 100_000,
  status: 'SUCCEEDED',
  xenditPayoutId: 'disb-1',
  ...overrides,
});
const theirs = (overrides: Partial<XenditPayoutFact> = {}): XenditPayoutFact => ({
  id: 'disb-1',
  referenceId: PAYOUT,
  amount: 100_000,
  status: 'SUCCEEDED',
  ...overrides,
});
const at = (...payouts: XenditPayoutFact[]) => new Map([[PAYOUT, payouts]]);
const kinds = (found: { kind: string }[]) => found.map((m) => m.kind);

describe('matchPayouts: each payout here is at most one at Xendit, with its amount and status', () => {
  it('is clean when they agree, and while both have it on its way', () => {
    expect(matchPayouts([ours()], at(theirs()))).toEqual([]);
    for (const status of ['ACCEPTED', 'REQUESTED', 'LOCKED'])
      expect(matchPayouts([ours({ status: 'ACCEPTED' })], at(theirs({ status })))).toEqual([]);
    // Left REQUESTED by a crash after Xendit accepted it: resumed with the same key, not a mismatch.
    expect(
      matchPayouts([ours({ status: 'REQUESTED', xenditPayoutId: null })], at(theirs({ status: 'ACCEPTED' }))),
    ).toEqual([]);
    // Refused at create: Xendit never made it, no money moved.
    expect(matchPayouts([ours({ status: 'FAILED', xenditPayoutId: null })], new Map())).toEqual([]);
  });

  it('reports a payout that says Xendit has it when Xendit lists none', () => {
    expect(matchPayouts([ours()], new Map())).toEqual([
      { kind: 'PAYOUT_NOT_AT_XENDIT', id: PAYOUT, xenditId: 'disb-1', detail: expect.stringContaining('no payout') },
    ]);
    expect(kinds(matchPayouts([ours({ status: 'ACCEPTED', xenditPayoutId: null })], new Map()))).toEqual([
      'PAYOUT_NOT_AT_XENDIT',
    ]);
  });

  it('reports two payouts at Xendit for one of ours, another amount, status or Xendit id', () => {
    expect(matchPayouts([ours()], at(theirs(), theirs({ id: 'disb-2' })))).toEqual([
      expect.objectContaining({ kind: 'PAYOUT_DUPLICATED_AT_XENDIT', detail: expect.stringContaining('disb-2') }),
    ]);
    expect(kinds(matchPayouts([ours()], at(theirs({ amount: 90_000 }))))).toEqual(['PAYOUT_AMOUNT_DIFFERS']);
    expect(kinds(matchPayouts([ours()], at(theirs({ status: 'REVERSED' }))))).toEqual(['PAYOUT_STATUS_DIFFERS']);
    expect(kinds(matchPayouts([ours({ status: 'ACCEPTED' })], at(theirs({ status: 'FAILED' }))))).toEqual([
      'PAYOUT_STATUS_DIFFERS',
    ]);
    expect(kinds(matchPayouts([ours({ xenditPayoutId: 'disb-0' })], at(theirs())))).toEqual(['PAYOUT_NOT_AT_XENDIT']);
  });
});
