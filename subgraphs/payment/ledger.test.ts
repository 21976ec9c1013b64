import {
  capturePostings,
  escrowLiability,
  isBalanced,
  lateCapturePostings,
  refundReservePostings,
  refundSettlePostings,
  releasePostings,
  walletCreditPostings,
} from './ledger';
import { ESCROW_TRANSITIONS, PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, sourcesOf } from './states';
import { assertTransition, canTransition } from '../../lib/state-machine';

const balance = (postings: { account: string; amount: number }[], account: string) =>
  postings.filter((p) => p.account === account).reduce((sum, p) => sum + p.amount, 0);

describe('ledger postings', () => {
  const factoryId = '01930000-0000-7000-8000-0000000000f1';
  const userId = '01930000-0000-7000-8000-000000000001';

  it('captures a regular payment to the factory payable and an escrow payment to escrow', () => {
    expect(capturePostings({ amount: 150000, isInEscrow: false, factoryId, userId })).toEqual({
      kind: 'PAYMENT_CAPTURED',
      postings: [
        { account: 'gateway_clearing', amount: 150000 },
        { account: `factory_payable:${factoryId}`, amount: -150000 },
      ],
    });
    // No account is ever invented for a payment without a factory.
    expect(() => capturePostings({ amount: 150000, isInEscrow: false, factoryId: null, userId })).toThrow(
      /without a factory/,
    );
    expect(() => releasePostings({ amount: 90000, isInEscrow: true, factoryId: undefined, userId })).toThrow(
      /without a factory/,
    );
    const escrow = capturePostings({ amount: 90000, isInEscrow: true, factoryId, userId });
    expect(escrow.kind).toBe('ESCROW_HELD');
    expect(balance(escrow.postings, 'escrow')).toBe(-90000);
  });

  it('balances every movement and empties escrow exactly once per path', () => {
    const payment = { amount: 90000, isInEscrow: true, factoryId, userId };
    const released = [...capturePostings(payment).postings, ...releasePostings(payment)];
    const refunded = [
      ...capturePostings(payment).postings,
      ...refundReservePostings(90000),
      ...refundSettlePostings(90000),
    ];
    const toWallet = [
      ...capturePostings(payment).postings,
      ...refundReservePostings(90000),
      ...walletCreditPostings(90000, userId),
    ];
    const latePaidAndRefunded = [...lateCapturePostings(90000), ...refundSettlePostings(90000)];
    for (const path of [released, refunded, toWallet, latePaidAndRefunded]) {
      expect(isBalanced(path)).toBe(true);
      expect(escrowLiability(balance(path, 'escrow'))).toBe(0);
    }
    expect(balance(released, `factory_payable:${factoryId}`)).toBe(-90000);
    expect(balance(refunded, 'gateway_clearing')).toBe(0);
    expect(balance(refunded, 'buyer_refunds')).toBe(0);
    expect(balance(toWallet, `wallet:${userId}`)).toBe(-90000);
    expect(balance(toWallet, 'buyer_refunds')).toBe(0);
    expect(balance(lateCapturePostings(90000), 'buyer_refunds')).toBe(-90000);
    expect(balance(latePaidAndRefunded, 'gateway_clearing')).toBe(0);
    expect(balance(latePaidAndRefunded, 'buyer_refunds')).toBe(0);
    // While held, the liability is what the buyer paid.
    expect(escrowLiability(balance(capturePostings(payment).postings, 'escrow'))).toBe(90000);
  });

  it('refuses amounts that are not positive whole rupiah', () => {
    expect(() => refundReservePostings(0)).toThrow();
    expect(() => refundSettlePostings(-1)).toThrow();
    expect(() => walletCreditPostings(10.5, userId)).toThrow();
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
    expect(sourcesOf(PAYMENT_TRANSITIONS, 'PAID')).toEqual(['PENDING']);
    expect(sourcesOf(PAYMENT_TRANSITIONS, 'EXPIRED')).toEqual(['PENDING']);
    expect(sourcesOf(PAYMENT_TRANSITIONS, 'REFUNDED')).toEqual(['PAID', 'LATE_PAID']);
    expect(sourcesOf(PAYMENT_TRANSITIONS, 'LATE_PAID')).toEqual(['EXPIRED', 'FAILED']);
    expect(sourcesOf(ESCROW_TRANSITIONS, 'RELEASED')).toEqual(['HELD']);
    expect(sourcesOf(REFUND_TRANSITIONS, 'SUCCEEDED')).toEqual(['PENDING']);
    expect(sourcesOf(ESCROW_TRANSITIONS, 'HELD')).toEqual([]);
  });
});
