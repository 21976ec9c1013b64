import { canTransition, statesLeadingTo } from '../../lib/state-machine';
import { PAYOUT_TRANSITIONS, type PayoutStatus } from './states';
import { maskAccountNumber, PAYOUT_CHANNEL_CODES } from './channels';

describe('payout state machine', () => {
  const statuses = Object.keys(PAYOUT_TRANSITIONS) as PayoutStatus[];

  it('follows Xendit: ACCEPTED then an outcome, REVERSED only after SUCCEEDED, nothing after a return', () => {
    const allowed = statuses.flatMap((from) =>
      statuses.filter((to) => canTransition(PAYOUT_TRANSITIONS, from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'REQUESTED→ACCEPTED',
        // Xendit refused the create, or the outcome's callback beat our record of the acceptance.
        'REQUESTED→SUCCEEDED',
        'REQUESTED→FAILED',
        'REQUESTED→CANCELLED',
        'ACCEPTED→SUCCEEDED',
        'ACCEPTED→FAILED',
        'ACCEPTED→CANCELLED',
        'SUCCEEDED→REVERSED',
      ].sort(),
    );
  });

  it('ignores a late SUCCEEDED after FAILED and a repeated outcome (no claim source)', () => {
    expect(statesLeadingTo(PAYOUT_TRANSITIONS, 'SUCCEEDED')).toEqual(['REQUESTED', 'ACCEPTED']);
    expect(statesLeadingTo(PAYOUT_TRANSITIONS, 'REVERSED')).toEqual(['SUCCEEDED']);
    expect(canTransition(PAYOUT_TRANSITIONS, 'FAILED', 'SUCCEEDED')).toBe(false);
    expect(canTransition(PAYOUT_TRANSITIONS, 'SUCCEEDED', 'SUCCEEDED')).toBe(false);
  });
});

describe('payout accounts', () => {
  it('masks all but the last four digits', () => {
    expect(maskAccountNumber('1234567890')).toBe('******7890');
    expect(maskAccountNumber('081234567890')).toBe('********7890');
    expect(maskAccountNumber('1234')).toBe('1234');
  });

  it('keeps one list of Indonesian payout channels', () => {
    expect(PAYOUT_CHANNEL_CODES).toEqual(
      expect.arrayContaining(['ID_BCA', 'ID_MANDIRI', 'ID_BNI', 'ID_BRI', 'ID_DANA', 'ID_OVO']),
    );
    for (const code of PAYOUT_CHANNEL_CODES) expect(code).toMatch(/^ID_[A-Z]+$/);
    expect(new Set(PAYOUT_CHANNEL_CODES).size).toBe(PAYOUT_CHANNEL_CODES.length);
  });
});
