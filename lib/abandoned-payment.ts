import type { EntityManager } from '@mikro-orm/postgresql';
import type { InternalClient } from './internal-client';
import { enqueue } from './outbox';

/**
 * Asks payment to close the invoice of an order or join its owner gave up on (`POST /api/payments/abandon`),
 * in the transaction that undoes or expires the order or join. After a create-payment call that failed
 * without an answer (timeout, 5xx after retries) the payment may exist all the same, so by default the
 * message waits until that call can have finished at payment; an unpaid hold that ran out on a payment
 * whose creation was answered long ago passes `notBefore: now`.
 */
export async function abandonPaymentOf(
  tx: EntityManager,
  client: InternalClient,
  owner: { orderId: string } | { participantId: string },
  notBefore = new Date(Date.now() + client.settleTimeMs),
): Promise<void> {
  const id = 'orderId' in owner ? owner.orderId : owner.participantId;
  await enqueue(
    tx,
    { dedupeKey: `payment-abandon:${id}`, service: 'payment', path: '/api/payments/abandon', body: owner },
    notBefore,
  );
}
