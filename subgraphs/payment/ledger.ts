/**
 * Double-entry postings (DESIGN.md §5) as pure functions.
 *
 * Sign convention: a debit is positive, a credit negative, and every group sums to zero. Asset accounts
 * (`gateway_clearing`: money Xendit holds for us) therefore carry positive balances; liabilities
 * (`escrow`, `buyer_refunds`, `factory_payable:<factoryId>`, `wallet:<userId>`) carry negative ones. The
 * escrow liability we report is the negated balance of `escrow`, which must equal the sum of HELD
 * escrow payments.
 *
 * Movements:
 *  - PAYMENT_CAPTURED (regular paid):   gateway_clearing +a, factory_payable:<factory> −a
 *  - ESCROW_HELD (escrow paid):         gateway_clearing +a, escrow −a
 *  - ESCROW_RELEASED:                   escrow +a, factory_payable:<factory> −a
 *  - REFUND_RESERVED (refund started):  escrow +a, buyer_refunds −a
 *  - REFUND_SETTLED (Xendit refunded):  buyer_refunds +a, gateway_clearing −a
 *  - WALLET_CREDITED (wallet took it):  buyer_refunds +a, wallet:<user> −a (a WALLET refund is reserved first too)
 *  - LATE_PAYMENT_CAPTURED (paid after it expired): gateway_clearing +a, buyer_refunds −a; the automatic
 *    refund then settles it with REFUND_SETTLED like any other.
 */
export type LedgerKind =
  | 'PAYMENT_CAPTURED'
  | 'ESCROW_HELD'
  | 'ESCROW_RELEASED'
  | 'REFUND_RESERVED'
  | 'REFUND_SETTLED'
  | 'WALLET_CREDITED'
  | 'LATE_PAYMENT_CAPTURED';

/** The movements that take money out of escrow; a payment may have at most one of them. */
export const ESCROW_EXIT_KINDS: LedgerKind[] = ['ESCROW_RELEASED', 'REFUND_RESERVED'];

/** The movements that pay a reserved refund out of buyer_refunds; a payment may have at most one of them. */
export const REFUND_SETTLE_KINDS: LedgerKind[] = ['REFUND_SETTLED', 'WALLET_CREDITED'];

export interface Posting {
  account: string;
  amount: number;
}

export const ACCOUNTS = {
  gatewayClearing: 'gateway_clearing',
  escrow: 'escrow',
  buyerRefunds: 'buyer_refunds',
  factoryPayable: (factoryId: string) => `factory_payable:${factoryId}`,
  wallet: (userId: string) => `wallet:${userId}`,
} as const;

export interface PaymentFacts {
  amount: number;
  isInEscrow: boolean;
  factoryId?: string | null;
  userId: string;
}

function pair(debit: string, credit: string, amount: number): Posting[] {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new Error(`A ledger movement needs a positive whole amount, got ${amount}`);
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

export function capturePostings(payment: PaymentFacts): { kind: LedgerKind; postings: Posting[] } {
  return payment.isInEscrow
    ? { kind: 'ESCROW_HELD', postings: pair(ACCOUNTS.gatewayClearing, ACCOUNTS.escrow, payment.amount) }
    : {
        kind: 'PAYMENT_CAPTURED',
        postings: pair(ACCOUNTS.gatewayClearing, ACCOUNTS.factoryPayable(factoryOf(payment)), payment.amount),
      };
}

export function releasePostings(payment: PaymentFacts): Posting[] {
  return pair(ACCOUNTS.escrow, ACCOUNTS.factoryPayable(factoryOf(payment)), payment.amount);
}

/** Money for a payment that had already given up: owed straight back to the buyer. */
export function lateCapturePostings(amount: number): Posting[] {
  return pair(ACCOUNTS.gatewayClearing, ACCOUNTS.buyerRefunds, amount);
}

export function refundReservePostings(amount: number): Posting[] {
  return pair(ACCOUNTS.escrow, ACCOUNTS.buyerRefunds, amount);
}

export function refundSettlePostings(amount: number): Posting[] {
  return pair(ACCOUNTS.buyerRefunds, ACCOUNTS.gatewayClearing, amount);
}

export function walletCreditPostings(amount: number, userId: string): Posting[] {
  return pair(ACCOUNTS.buyerRefunds, ACCOUNTS.wallet(userId), amount);
}

export function isBalanced(postings: Posting[]): boolean {
  return postings.reduce((sum, p) => sum + p.amount, 0) === 0;
}

/** Escrow liability from the escrow account's balance, in the same (positive) terms as HELD payments. */
export function escrowLiability(escrowAccountBalance: number): number {
  return 0 - escrowAccountBalance; // never -0
}
