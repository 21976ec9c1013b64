import { canTransition, assertTransition, statesLeadingTo } from '../../lib/state-machine';
import {
  moqOutcome,
  PARTICIPANT_STATUSES,
  PARTICIPANT_TRANSITIONS,
  progressPercent,
  remainingQuantity,
  SESSION_STATUSES,
  SESSION_TRANSITIONS,
} from './states';

describe('session state table', () => {
  it('allows exactly the moves of DESIGN.md §4', () => {
    const allowed = SESSION_STATUSES.flatMap((from) =>
      SESSION_STATUSES.filter((to) => canTransition(SESSION_TRANSITIONS, from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'FORMING→MOQ_REACHED',
        'FORMING→FAILED',
        'FORMING→CANCELLED',
        'MOQ_REACHED→IN_PRODUCTION',
        'IN_PRODUCTION→COMPLETED',
      ].sort(),
    );
  });

  it('refuses illegal moves with CONFLICT', () => {
    expect(() => assertTransition(SESSION_TRANSITIONS, 'FAILED', 'MOQ_REACHED')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => assertTransition(SESSION_TRANSITIONS, 'MOQ_REACHED', 'CANCELLED')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => assertTransition(SESSION_TRANSITIONS, 'FORMING', 'COMPLETED')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => assertTransition(SESSION_TRANSITIONS, 'IN_PRODUCTION', 'COMPLETED')).not.toThrow();
  });

  it('ends every path in a terminal state', () => {
    for (const terminal of ['COMPLETED', 'FAILED', 'CANCELLED'] as const)
      expect(SESSION_TRANSITIONS[terminal]).toEqual([]);
  });
});

describe('participant state table', () => {
  it('allows exactly the moves of DESIGN.md §4', () => {
    const allowed = PARTICIPANT_STATUSES.flatMap((from) =>
      PARTICIPANT_STATUSES.filter((to) => canTransition(PARTICIPANT_TRANSITIONS, from, to)).map(
        (to) => `${from}→${to}`,
      ),
    );
    expect(allowed.sort()).toEqual(
      ['PENDING_PAYMENT→PAID', 'PENDING_PAYMENT→EXPIRED', 'PAID→ORDERED', 'PAID→REFUNDED', 'ORDERED→REFUNDED'].sort(),
    );
  });

  it('derives the claim sources of each payment callback from the table', () => {
    expect(statesLeadingTo(PARTICIPANT_TRANSITIONS, 'PAID')).toEqual(['PENDING_PAYMENT']);
    expect(statesLeadingTo(PARTICIPANT_TRANSITIONS, 'EXPIRED')).toEqual(['PENDING_PAYMENT']);
    expect(statesLeadingTo(PARTICIPANT_TRANSITIONS, 'REFUNDED')).toEqual(['PAID', 'ORDERED']);
    expect(statesLeadingTo(PARTICIPANT_TRANSITIONS, 'PENDING_PAYMENT')).toEqual([]);
  });
});

describe('MOQ rules', () => {
  it('reaches the MOQ at exactly moq paid units', () => {
    expect(moqOutcome(9, 10)).toBe('FAILED');
    expect(moqOutcome(10, 10)).toBe('MOQ_REACHED');
    expect(moqOutcome(11, 10)).toBe('MOQ_REACHED');
    expect(moqOutcome(0, 1)).toBe('FAILED');
  });

  it('shows progress as a whole percentage, rounded down and capped at 100', () => {
    expect(progressPercent(0, 10)).toBe(0);
    expect(progressPercent(4, 10)).toBe(40);
    expect(progressPercent(2, 3)).toBe(66);
    expect(progressPercent(999, 1000)).toBe(99);
    expect(progressPercent(10, 10)).toBe(100);
    expect(progressPercent(25, 10)).toBe(100);
  });

  it('counts what is left of maxQuantity', () => {
    expect(remainingQuantity(null, 50)).toBeNull();
    expect(remainingQuantity(100, 40)).toBe(60);
    expect(remainingQuantity(100, 100)).toBe(0);
  });
});
