import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { childrenLoader, entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import type { PaymentDeps } from './service';

export function createLoaders(em: EntityManager) {
  return {
    payment: entityLoader(em, Payment),
    refundsByPayment: childrenLoader(em, Refund, 'paymentId'),
    paymentByOrder: new DataLoader<string, Payment | null>(async (orderIds) => {
      const rows = await em.find(Payment, { orderId: { $in: [...orderIds] } });
      const byOrder = new Map(rows.map((row) => [row.orderId!, row]));
      return orderIds.map((id) => byOrder.get(id) ?? null);
    }),
  };
}

export type PaymentContext = SubgraphContext<ReturnType<typeof createLoaders>> & { services: PaymentDeps };
