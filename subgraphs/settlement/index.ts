import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { startPeriodicTask } from '../../lib/periodic';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { SettlementService } from './service';
import { PayoutWebhooks } from './webhooks';
import { payoutGateway } from './xendit';
import { type XenditPayoutLists, xenditPayoutLists } from './reconciliation';
import { PAYOUT_UPDATED } from './payouts';
import type { SettlementServices } from './loaders';
import { PayoutAccount } from './entities/payout-account.entity';
import { Payout } from './entities/payout.entity';
import { PayoutStatusChange } from './entities/payout-status-change.entity';
import { WebhookEvent } from './entities/webhook-event.entity';

export const subgraph: SubgraphDefinition<
  ReturnType<typeof createLoaders>,
  SettlementServices & { payoutLists: XenditPayoutLists }
> = {
  name: 'settlement',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [PayoutAccount, Payout, PayoutStatusChange, WebhookEvent, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  eventChannels: [PAYOUT_UPDATED],
  init: ({ config }) => ({ gateway: payoutGateway(config), payoutLists: xenditPayoutLists(config) }),
  background: (deps, { gateway }) => {
    const { client, config, logger } = deps;
    return [
      startOutboxWorker(deps),
      // Both halves of "no payout is lost": REQUESTED ones resumed (with the same Xendit idempotency key),
      // ACCEPTED ones whose outcome never came looked up at Xendit.
      startPeriodicTask(
        'payout reconciliation',
        config.PAYOUT_RECONCILE_MS,
        async () => {
          await new SettlementService(deps.orm.em.fork(), { client, config, gateway, logger }).resumeRequested(
            client.settleTimeMs,
          );
          await new PayoutWebhooks(deps.orm.em.fork(), logger).reconcileOverduePayouts(
            gateway,
            config.PAYOUT_CALLBACK_GRACE_MS,
          );
        },
        logger,
      ),
    ];
  },
};

if (require.main === module) runSubgraphProcess(subgraph);
