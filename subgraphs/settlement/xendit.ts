import { XenditSdkError } from 'xendit-node';
import type { Config } from '../../lib/config';
import { withTimeout, xenditClient } from '../../lib/xendit';

/** A payout as Xendit has it. */
export interface RemotePayout {
  id: string;
  status: string;
  referenceId: string;
  amount: number;
  currency: string;
  failureCode: string | null;
}

/** What a payout is sent with: our payout id is both Xendit's idempotency key and its reference id. */
export interface PayoutOrder {
  id: string;
  amount: number;
  currency: string;
  channelCode: string;
  accountNumber: string;
  accountHolderName: string;
}

/** What settlement needs from Xendit Payouts; an interface so the rules do not depend on the network. */
export interface PayoutGateway {
  /** Sends a payout; the same `order.id` again answers the payout made the first time, never a second one. */
  createPayout(order: PayoutOrder): Promise<RemotePayout>;
  getPayout(xenditPayoutId: string): Promise<RemotePayout>;
}

/** Xendit refused a payout outright (4xx): it will never be sent as it is, so retrying would not help. */
export class PayoutRefused extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayoutRefused';
  }
}

/**
 * The answers that refuse the payout itself. Others (401 while keys rotate, 409 while the first create with
 * the key is still being processed, 429, 5xx, no answer) leave it to be tried again with the same key.
 */
const REFUSING_STATUSES = new Set([400, 403, 404, 422]);

/** Settlement's gateway to Xendit Payouts, built once at start (index.ts) for mutations and background work. */
export function payoutGateway(config: Config): PayoutGateway {
  const payouts = xenditClient(config).Payout;
  const ms = config.HTTP_TIMEOUT_MS;
  const toRemote = (payout: {
    id: string;
    status: string;
    referenceId: string;
    amount: number;
    currency: string;
    failureCode?: string;
  }): RemotePayout => ({
    id: payout.id,
    status: payout.status,
    referenceId: payout.referenceId,
    amount: payout.amount,
    currency: payout.currency,
    failureCode: payout.failureCode ?? null,
  });
  return {
    async createPayout(order) {
      try {
        const payout = await withTimeout(
          payouts.createPayout({
            idempotencyKey: order.id,
            data: {
              referenceId: order.id,
              channelCode: order.channelCode,
              channelProperties: {
                accountHolderName: order.accountHolderName,
                accountNumber: order.accountNumber,
              },
              amount: order.amount,
              currency: order.currency,
              description: `Payout ${order.id}`,
            },
          }),
          ms,
          'createPayout',
        );
        return toRemote(payout);
      } catch (error) {
        if (error instanceof XenditSdkError && REFUSING_STATUSES.has(Number(error.status)))
          throw new PayoutRefused(
            Number(error.status),
            error.errorCode ?? 'REJECTED',
            error.errorMessage ?? error.message,
          );
        throw error;
      }
    },
    async getPayout(xenditPayoutId) {
      return toRemote(await withTimeout(payouts.getPayoutById({ id: xenditPayoutId }), ms, 'getPayoutById'));
    },
  };
}
