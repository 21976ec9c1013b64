/**
 * Double-entry postings (DESIGN.md §5) as pure functions.
 *
 * Sign convention: a debit is positive, a credit negative, and every group sums to zero. Asset accounts
 * (`gateway_clearing`: money Xendit holds for us) therefore carry positive balances; liabilities
 * (`escrow`, `buyer_refunds`, `factory_pending:<f>`, `factory_available:<f>`, `factory_in_payout:<f>`,
 * `wallet:<userId>`) and the platform's income (`platform_revenue`) carry negative ones. The escrow
 * liability we report is the negated balance of `escrow`, which must equal the sum of HELD escrow payments.
 *
 * Movements (a = the payment's or payout's amount, c = commission = floor(a × PLATFORM_FEE_BPS / 10000)):
 *  - PAYMENT_CAPTURED (regular paid):   gateway_clearing +a, factory_pending:<f> −a
 *  - ORDER_DELIVERED (regular order delivered): factory_pending:<f> +a, factory_available:<f> −(a−c), platform_revenue −c
 *  - ESCROW_HELD (escrow paid):         gateway_clearing +a, escrow −a
 *  - ESCROW_RELEASED (production done): escrow +a, factory_available:<f> −(a−c), platform_revenue −c
 *  - REFUND_RESERVED (refund started):  escrow +a (or factory_pending:<f> +a for a regular order), buyer_refunds −a
 *  - REFUND_SETTLED (Xendit refunded):  buyer_refunds +a, gateway_clearing −a
 *  - WALLET_CREDITED (wallet took it):  buyer_refunds +a, wallet:<user> −a (a WALLET refund is reserved first too)
 *  - LATE_PAYMENT_CAPTURED (paid after it expired): gateway_clearing +a, buyer_refunds −a; the automatic
 *    refund then settles it with REFUND_SETTLED like any other.
 *  - PAYOUT_RESERVED (payout requested): factory_available:<f> +a, factory_in_payout:<f> −a
 *  - PAYOUT_SUCCEEDED (left our Xendit balance): factory_in_payout:<f> +a, gateway_clearing −a
 *  - PAYOUT_FAILED, PAYOUT_CANCELLED:   factory_in_payout:<f> +a, factory_available:<f> −a
 *  - PAYOUT_REVERSED (came back after SUCCEEDED): gateway_clearing +a, factory_available:<f> −a
 *
 * A leg of zero (no commission on a tiny amount, or nothing left for the factory at a 100% fee) is not written.
 *
 * Per factory, from these rows alone: released = the debit of its ORDER_DELIVERED / ESCROW_RELEASED groups,
 * commission = their platform_revenue legs, paid out = its PAYOUT_SUCCEEDED in-payout legs less its
 * PAYOUT_REVERSED available legs; and released − commission = available + in payout + paid out.
 */
export type LedgerKind =
  | 'PAYMENT_CAPTURED'
  | 'ORDER_DELIVERED'
  | 'ESCROW_HELD'
  | 'ESCROW_RELEASED'
  | 'REFUND_RESERVED'
  | 'REFUND_SETTLED'
  | 'WALLET_CREDITED'
  | 'LATE_PAYMENT_CAPTURED'
  | PayoutLedgerKind;

export type PayoutLedgerKind =
  'PAYOUT_RESERVED' | 'PAYOUT_SUCCEEDED' | 'PAYOUT_FAILED' | 'PAYOUT_CANCELLED' | 'PAYOUT_REVERSED';

/**
 * The movements that take a payment's money out of where it waits (escrow, or the factory's pending money):
 * to the factory or to the buyer. A payment may have at most one of them.
 */
export const MONEY_EXIT_KINDS: LedgerKind[] = ['ESCROW_RELEASED', 'ORDER_DELIVERED', 'REFUND_RESERVED'];

/** The movements that pay a reserved refund out of buyer_refunds; a payment may have at most one of them. */
export const REFUND_SETTLE_KINDS: LedgerKind[] = ['REFUND_SETTLED', 'WALLET_CREDITED'];

/** The movements that make money the factory's (less commission). */
export const RELEASE_KINDS: LedgerKind[] = ['ESCROW_RELEASED', 'ORDER_DELIVERED'];

export interface Posting {
  account: string;
  amount: number;
}

export const ACCOUNTS = {
  gatewayClearing: 'gateway_clearing',
  escrow: 'escrow',
  buyerRefunds: 'buyer_refunds',
  platformRevenue: 'platform_revenue',
  factoryPending: (factoryId: string) => `factory_pending:${factoryId}`,
  factoryAvailable: (factoryId: string) => `factory_available:${factoryId}`,
  factoryInPayout: (factoryId: string) => `factory_in_payout:${factoryId}`,
  wallet: (userId: string) => `wallet:${userId}`,
} as const;

export interface PaymentFacts {
  amount: number;
  isInEscrow: boolean;
  factoryId?: string | null;
  userId: string;
}

function assertAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new Error(`A ledger movement needs a positive whole amount, got ${amount}`);
}

function pair(debit: string, credit: string, amount: number): Posting[] {
  assertAmount(amount);
  return [
    { account: debit, amount },
    { account: credit, amount: -amount },
  ];
}

/** The factory owed the money; every payment names one (the payment API refuses one without). */
function factoryOf(payment: PaymentFacts): string {
  if (!payment.factoryId) throw new Error('A payment without a factory cannot be credited to one');
  return payment.factoryId;
}

/** The platform's cut of `amount` at `feeBps` basis points, floored to whole rupiah. */
export function commissionOf(amount: number, feeBps: number): number {
  assertAmount(amount);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000)
    throw new Error(`A fee is 0 to 10000 basis points, got ${feeBps}`);
  // amount ≤ 2^31 and feeBps ≤ 10^4 keep the product well inside exact integers.
  return Math.floor((amount * feeBps) / 10_000);
}

export function capturePostings(payment: PaymentFacts): { kind: LedgerKind; postings: Posting[] } {
  return payment.isInEscrow
    ? { kind: 'ESCROW_HELD', postings: pair(ACCOUNTS.gatewayClearing, ACCOUNTS.escrow, payment.amount) }
    : {
        kind: 'PAYMENT_CAPTURED',
        postings: pair(ACCOUNTS.gatewayClearing, ACCOUNTS.factoryPending(factoryOf(payment)), payment.amount),
      };
}

/**
 * The payment's money becomes the factory's, less commission: from escrow at completeProduction, or from
 * the factory's pending money when a regular order is delivered.
 */
export function releasePostings(
  payment: PaymentFacts,
  feeBps: number,
): { kind: LedgerKind; postings: Posting[]; commission: number } {
  const factoryId = factoryOf(payment);
  const commission = commissionOf(payment.amount, feeBps);
  const postings: Posting[] = [
    {
      account: payment.isInEscrow ? ACCOUNTS.escrow : ACCOUNTS.factoryPending(factoryId),
      amount: payment.amount,
    },
    { account: ACCOUNTS.factoryAvailable(factoryId), amount: -(payment.amount - commission) },
    { account: ACCOUNTS.platformRevenue, amount: -commission },
  ].filter((posting) => posting.amount !== 0);
  return { kind: payment.isInEscrow ? 'ESCROW_RELEASED' : 'ORDER_DELIVERED', postings, commission };
}

/** Money for a payment that had already given up: owed straight back to the buyer. */
export function lateCapturePostings(amount: number): Posting[] {
  return pair(ACCOUNTS.gatewayClearing, ACCOUNTS.buyerRefunds, amount);
}

/** A full refund starts: the money leaves escrow, or the factory's pending money of a regular order. */
export function refundReservePostings(payment: PaymentFacts): Posting[] {
  const from = payment.isInEscrow ? ACCOUNTS.escrow : ACCOUNTS.factoryPending(factoryOf(payment));
  return pair(from, ACCOUNTS.buyerRefunds, payment.amount);
}

export function refundSettlePostings(amount: number): Posting[] {
  return pair(ACCOUNTS.buyerRefunds, ACCOUNTS.gatewayClearing, amount);
}

export function walletCreditPostings(amount: number, userId: string): Posting[] {
  return pair(ACCOUNTS.buyerRefunds, ACCOUNTS.wallet(userId), amount);
}

export type PayoutOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REVERSED';

export function payoutReservePostings(factoryId: string, amount: number): Posting[] {
  return pair(ACCOUNTS.factoryAvailable(factoryId), ACCOUNTS.factoryInPayout(factoryId), amount);
}

/** A payout's outcome: paid out (the money left Xendit), back to available, or back after it was paid out. */
export function payoutSettlePostings(
  factoryId: string,
  amount: number,
  outcome: PayoutOutcome,
): { kind: PayoutLedgerKind; postings: Posting[] } {
  switch (outcome) {
    case 'SUCCEEDED':
      return {
        kind: 'PAYOUT_SUCCEEDED',
        postings: pair(ACCOUNTS.factoryInPayout(factoryId), ACCOUNTS.gatewayClearing, amount),
      };
    case 'FAILED':
    case 'CANCELLED':
      return {
        kind: `PAYOUT_${outcome}`,
        postings: pair(ACCOUNTS.factoryInPayout(factoryId), ACCOUNTS.factoryAvailable(factoryId), amount),
      };
    case 'REVERSED':
      return {
        kind: 'PAYOUT_REVERSED',
        postings: pair(ACCOUNTS.gatewayClearing, ACCOUNTS.factoryAvailable(factoryId), amount),
      };
  }
}

export function isBalanced(postings: Posting[]): boolean {
  return postings.reduce((sum, p) => sum + p.amount, 0) === 0;
}

/** Escrow liability from the escrow account's balance, in the same (positive) terms as HELD payments. */
export function escrowLiability(escrowAccountBalance: number): number {
  return 0 - escrowAccountBalance; // never -0
}

/** A factory's money as the ledger tells it, in positive terms (what is owed to it). */
export interface FactoryFigures {
  released: number;
  commission: number;
  available: number;
  inPayout: number;
  paidOut: number;
}

/** DESIGN.md §5: everything released to a factory, less commission, is available, in payout or paid out. */
export function factoryBalances(figures: FactoryFigures): boolean {
  return (
    figures.released - figures.commission === figures.available + figures.inPayout + figures.paidOut &&
    figures.available >= 0 &&
    figures.inPayout >= 0 &&
    figures.paidOut >= 0
  );
}
