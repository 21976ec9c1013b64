import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { completeWalletRefund } from './service';
import { xenditGateway } from './xendit';
import { XenditWebhooks } from './webhooks';
import { startPeriodicTask } from '../../lib/periodic';
import { migrations } from './migrations';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { PayoutReservation } from './entities/payout-reservation.entity';
import { WebhookEvent } from './entities/webhook-event.entity';
import { PaymentStatusChange } from './entities/payment-status-change.entity';
import { RefundStatusChange } from './entities/refund-status-change.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
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
  rest: (app, deps) => mountRest(app, deps),
  background: (deps) => {
    const gateway = xenditGateway(deps.config);
    return [
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
    ];
  },
};

if (require.main === module) runSubgraphProcess(subgraph);
