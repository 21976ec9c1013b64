import {
  capturePostings,
  commissionOf,
  escrowLiability,
  factoryBalances,
  isBalanced,
  lateCapturePostings,
  payoutReservePostings,
  payoutSettlePostings,
  type PayoutOutcome,
  type Posting,
  refundReservePostings,
  refundSettlePostings,
  releasePostings,
  walletCreditPostings,
} from './ledger';
import {
  EARNINGS_TRANSITIONS,
  ESCROW_TRANSITIONS,
  PAYMENT_TRANSITIONS,
  PAYOUT_RESERVATION_TRANSITIONS,
  REFUND_TRANSITIONS,
} from './states';
import { assertTransition, canTransition, statesLeadingTo } from '../../lib/state-machine';

const balance = (postings: { account: string; amount: number }[], account: string) =>
  postings.filter((p) => p.account === account).reduce((sum, p) => sum + p.amount, 0);

describe('ledger postings', () => {
  const factoryId = '01930000-0000-7000-8000-0000000000f1';
  const userId = '01930000-0000-7000-8000-000000000001';
  const regular = { amount: 150000, isInEscrow: false, factoryId, userId };
  const escrow = { amount: 90000, isInEscrow: true, factoryId, userId };

  it("captures a regular payment to the factory's pending money and an escrow payment to escrow", () => {
    expect(capturePostings(regular)).toEqual({
      kind: 'PAYMENT_CAPTURED',
      postings: [
        { account: 'gateway_clearing', amount: 150000 },
        { account: `factory_pending:${factoryId}`, amount: -150000 },
      ],
    });
    // No account is ever invented for a payment without a factory.
    expect(() => capturePostings({ ...regular, factoryId: null })).toThrow(/without a factory/);
    expect(() => releasePostings({ ...escrow, factoryId: undefined }, 300)).toThrow(/without a factory/);
    expect(() => refundReservePostings({ ...regular, factoryId: null })).toThrow(/without a factory/);
    const held = capturePostings(escrow);
    expect(held.kind).toBe('ESCROW_HELD');
    expect(balance(held.postings, 'escrow')).toBe(-90000);
  });

  it('takes the commission, floored to whole rupiah, at delivery and at escrow release', () => {
    expect(commissionOf(150000, 300)).toBe(4500);
    expect(commissionOf(99999, 300)).toBe(2999); // 2999.97
    expect(commissionOf(33, 300)).toBe(0);
    expect(commissionOf(2_147_483_647, 10_000)).toBe(2_147_483_647);
    expect(() => commissionOf(100, 10_001)).toThrow();
    expect(() => commissionOf(100, 2.5)).toThrow();

    expect(releasePostings(regular, 300)).toEqual({
      kind: 'ORDER_DELIVERED',
      commission: 4500,
      postings: [
        { account: `factory_pending:${factoryId}`, amount: 150000 },
        { account: `factory_available:${factoryId}`, amount: -145500 },
        { account: 'platform_revenue', amount: -4500 },
      ],
    });
    expect(releasePostings(escrow, 300)).toEqual({
      kind: 'ESCROW_RELEASED',
      commission: 2700,
      postings: [
        { account: 'escrow', amount: 90000 },
        { account: `factory_available:${factoryId}`, amount: -87300 },
        { account: 'platform_revenue', amount: -2700 },
      ],
    });
    // No commission: no zero leg.
    expect(releasePostings({ ...escrow, amount: 33 }, 300).postings).toEqual([
      { account: 'escrow', amount: 33 },
      { account: `factory_available:${factoryId}`, amount: -33 },
    ]);
  });

  it('balances every movement and empties escrow or pending exactly once per path', () => {
    const released = [...capturePostings(escrow).postings, ...releasePostings(escrow, 300).postings];
    const refunded = [
      ...capturePostings(escrow).postings,
      ...refundReservePostings(escrow),
      ...refundSettlePostings(90000),
    ];
    const toWallet = [
      ...capturePostings(escrow).postings,
      ...refundReservePostings(escrow),
      ...walletCreditPostings(90000, userId),
    ];
    const delivered = [...capturePostings(regular).postings, ...releasePostings(regular, 300).postings];
    const regularRefunded = [
      ...capturePostings(regular).postings,
      ...refundReservePostings(regular),
      ...refundSettlePostings(150000),
    ];
    const latePaidAndRefunded = [...lateCapturePostings(90000), ...refundSettlePostings(90000)];
    for (const path of [released, refunded, toWallet, delivered, regularRefunded, latePaidAndRefunded]) {
      expect(isBalanced(path)).toBe(true);
      expect(escrowLiability(balance(path, 'escrow'))).toBe(0);
      expect(balance(path, `factory_pending:${factoryId}`)).toBe(0);
    }
    expect(balance(released, `factory_available:${factoryId}`)).toBe(-87300);
    expect(balance(delivered, `factory_available:${factoryId}`)).toBe(-145500);
    expect(balance(delivered, 'platform_revenue')).toBe(-4500);
    expect(balance(refunded, 'gateway_clearing')).toBe(0);
    expect(balance(refunded, 'buyer_refunds')).toBe(0);
    expect(balance(regularRefunded, 'gateway_clearing')).toBe(0);
    expect(balance(toWallet, `wallet:${userId}`)).toBe(-90000);
    expect(balance(toWallet, 'buyer_refunds')).toBe(0);
    expect(balance(lateCapturePostings(90000), 'buyer_refunds')).toBe(-90000);
    expect(balance(latePaidAndRefunded, 'gateway_clearing')).toBe(0);
    expect(balance(latePaidAndRefunded, 'buyer_refunds')).toBe(0);
    // While held, the liability is what the buyer paid.
    expect(escrowLiability(balance(capturePostings(escrow).postings, 'escrow'))).toBe(90000);
  });

  it("moves payouts between the factory's accounts and keeps released − commission = available + in payout + paid out", () => {
    const available = `factory_available:${factoryId}`;
    const inPayout = `factory_in_payout:${factoryId}`;
    const figures = (postings: Posting[]) => {
      const paidOut =
        balance(
          postings.filter((p) => (p as { kind?: string }).kind === 'PAYOUT_SUCCEEDED'),
          inPayout,
        ) +
        balance(
          postings.filter((p) => (p as { kind?: string }).kind === 'PAYOUT_REVERSED'),
          available,
        );
      return {
        released: 150000,
        commission: 4500,
        available: 0 - balance(postings, available),
        inPayout: 0 - balance(postings, inPayout),
        paidOut,
      };
    };
    const tagged = (kind: string, postings: Posting[]) => postings.map((p) => ({ ...p, kind }));
    const earned = tagged('ORDER_DELIVERED', releasePostings(regular, 300).postings);
    const reserved = tagged('PAYOUT_RESERVED', payoutReservePostings(factoryId, 100000));
    expect(reserved).toEqual([
      { account: available, amount: 100000, kind: 'PAYOUT_RESERVED' },
      { account: inPayout, amount: -100000, kind: 'PAYOUT_RESERVED' },
    ]);
    const outcome = (o: PayoutOutcome) => {
      const { kind, postings } = payoutSettlePostings(factoryId, 100000, o);
      return tagged(kind, postings);
    };
    const paths = {
      reserved: [...earned, ...reserved],
      succeeded: [...earned, ...reserved, ...outcome('SUCCEEDED')],
      failed: [...earned, ...reserved, ...outcome('FAILED')],
      cancelled: [...earned, ...reserved, ...outcome('CANCELLED')],
      reversed: [...earned, ...reserved, ...outcome('SUCCEEDED'), ...outcome('REVERSED')],
    };
    expect(figures(paths.reserved)).toMatchObject({ available: 45500, inPayout: 100000, paidOut: 0 });
    expect(figures(paths.succeeded)).toMatchObject({ available: 45500, inPayout: 0, paidOut: 100000 });
    expect(balance(paths.succeeded, 'gateway_clearing')).toBe(-100000);
    expect(figures(paths.failed)).toMatchObject({ available: 145500, inPayout: 0, paidOut: 0 });
    expect(figures(paths.cancelled)).toMatchObject({ available: 145500, inPayout: 0, paidOut: 0 });
    expect(figures(paths.reversed)).toMatchObject({ available: 145500, inPayout: 0, paidOut: 0 });
    expect(outcome('CANCELLED')[0].kind).toBe('PAYOUT_CANCELLED');
    for (const path of Object.values(paths)) {
      expect(isBalanced(path)).toBe(true);
      expect(factoryBalances(figures(path))).toBe(true);
    }
    // Money moved between two factories' accounts breaks the rule for both.
    expect(factoryBalances({ ...figures(paths.reserved), available: 45400 })).toBe(false);
    expect(factoryBalances({ released: 0, commission: 0, available: -100, inPayout: 100, paidOut: 0 })).toBe(false);
  });

  it('refuses amounts that are not positive whole rupiah', () => {
    expect(() => refundReservePostings({ ...escrow, amount: 0 })).toThrow();
    expect(() => refundSettlePostings(-1)).toThrow();
    expect(() => walletCreditPostings(10.5, userId)).toThrow();
    expect(() => payoutReservePostings(factoryId, 0)).toThrow();
    expect(isBalanced([{ account: 'escrow', amount: 1 }])).toBe(false);
  });
});

describe('payment state tables', () => {
  it('allows only the DESIGN.md §4 moves', () => {
    expect(canTransition(PAYMENT_TRANSITIONS, 'PENDING', 'PAID')).toBe(true);
    expect(canTransition(PAYMENT_TRANSITIONS, 'PAID', 'REFUNDED')).toBe(true);
    expect(canTransition(PAYMENT_TRANSITIONS, 'EXPIRED', 'PAID')).toBe(false);
    expect(canTransition(PAYMENT_TRANSITIONS, 'EXPIRED', 'LATE_PAID')).toBe(true);
    expect(canTransition(PAYMENT_TRANSITIONS, 'LATE_PAID', 'PAID')).toBe(false);
    expect(canTransition(PAYMENT_TRANSITIONS, 'PAID', 'EXPIRED')).toBe(false);
    expect(canTransition(ESCROW_TRANSITIONS, 'RELEASED', 'REFUNDED')).toBe(false);
    expect(canTransition(REFUND_TRANSITIONS, 'SUCCEEDED', 'FAILED')).toBe(false);
    expect(() => assertTransition(PAYMENT_TRANSITIONS, 'REFUNDED', 'PAID')).toThrow(
      /Cannot change status from REFUNDED to PAID/,
    );
  });

  it('derives the claim sources from the tables', () => {
    expect(statesLeadingTo(PAYMENT_TRANSITIONS, 'PAID')).toEqual(['PENDING']);
    expect(statesLeadingTo(PAYMENT_TRANSITIONS, 'EXPIRED')).toEqual(['PENDING']);
    expect(statesLeadingTo(PAYMENT_TRANSITIONS, 'REFUNDED')).toEqual(['PAID', 'LATE_PAID']);
    expect(statesLeadingTo(PAYMENT_TRANSITIONS, 'LATE_PAID')).toEqual(['EXPIRED', 'FAILED']);
    expect(statesLeadingTo(ESCROW_TRANSITIONS, 'RELEASED')).toEqual(['HELD']);
    expect(statesLeadingTo(REFUND_TRANSITIONS, 'SUCCEEDED')).toEqual(['PENDING']);
    expect(statesLeadingTo(ESCROW_TRANSITIONS, 'HELD')).toEqual([]);
    expect(statesLeadingTo(EARNINGS_TRANSITIONS, 'AVAILABLE')).toEqual(['PENDING']);
    expect(statesLeadingTo(EARNINGS_TRANSITIONS, 'REFUNDED')).toEqual(['PENDING']);
    expect(statesLeadingTo(PAYOUT_RESERVATION_TRANSITIONS, 'FAILED')).toEqual(['RESERVED']);
    expect(statesLeadingTo(PAYOUT_RESERVATION_TRANSITIONS, 'REVERSED')).toEqual(['RESERVED', 'SUCCEEDED']);
  });
});
