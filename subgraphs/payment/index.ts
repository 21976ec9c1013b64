import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { completeWalletRefund, type PaymentDeps, paymentDeps } from './service';
import { XenditWebhooks } from './webhooks';
import { startPeriodicReconciliation } from './reconciliation';
import { startPeriodicTask } from '../../lib/periodic';
import { migrations } from './migrations';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { PayoutReservation } from './entities/payout-reservation.entity';
import { WebhookEvent } from './entities/webhook-event.entity';
import { PaymentStatusChange } from './entities/payment-status-change.entity';
import { RefundStatusChange } from './entities/refund-status-change.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>, PaymentDeps> = {
  name: 'payment',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [
    Payment,
    Refund,
    LedgerEntry,
    PayoutReservation,
    WebhookEvent,
    PaymentStatusChange,
    RefundStatusChange,
    OutboxMessage,
  ],
  migrations,
  createLoaders,
  init: (deps) => paymentDeps(deps.config, deps.logger),
  rest: mountRest,
  background: (deps, { gateway, xenditRecords }) => [
    startOutboxWorker(deps, { onDelivered: completeWalletRefund }),
    startPeriodicTask(
      'refund reconciliation',
      deps.config.REFUND_RECONCILE_MS,
      () =>
        new XenditWebhooks(deps.orm.em.fork(), deps.logger).reconcileOverdueRefunds(
          gateway,
          deps.config.REFUND_CALLBACK_GRACE_MS,
        ),
      deps.logger,
    ),
    startPeriodicReconciliation(deps, xenditRecords),
  ],
};

if (require.main === module) runSubgraphProcess(subgraph);
