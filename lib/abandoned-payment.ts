import type { EntityManager } from '@mikro-orm/postgresql';
import type { InternalClient } from './internal-client';
import { enqueue } from './outbox';

/**
 * When a create-payment call failed without an answer (timeout, 5xx after retries), the payment may exist
 * all the same, with a payable invoice for an order or join that was just undone. This asks payment to
 * close it (`POST /api/payments/abandon`), in the transaction that undoes the order or join, and not before
 * the call that was given up on can have finished at payment.
 */
export async function abandonPaymentOf(tx: EntityManager, client: InternalClient, owner: { orderId: string } | { participantId: string }): Promise<void> {
  const id = 'orderId' in owner ? owner.orderId : owner.participantId;
  await enqueue(
    tx,
    { dedupeKey: `payment-abandon:${id}`, service: 'payment', path: '/api/payments/abandon', body: owner },
    new Date(Date.now() + client.settleTimeMs),
  );
}
