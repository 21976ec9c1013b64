import type express from 'express';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { xenditCallback } from '../../lib/xendit';
import { PayoutWebhooks } from './webhooks';
import { route } from '../../lib/rest';
import { PAYOUT_RECONCILIATION_PATH } from '../../lib/contracts/reconciliation';
import { PayoutReconciliationService, type XenditPayoutLists } from './reconciliation';

const WEBHOOK_ID_HEADER = 'webhook-id';

/** The Xendit payout callbacks the gateway forwards (docs/internal-api.md, settlement). */
export function mountRest(
  app: express.Express,
  { orm, config, logger }: SubgraphDeps,
  { payoutLists }: { payoutLists: XenditPayoutLists },
) {
  app.post(
    '/api/webhooks/xendit/payout',
    ...xenditCallback(config, (body, req) =>
      new PayoutWebhooks(orm.em.fork(), logger).payout(body, req.header(WEBHOOK_ID_HEADER)),
    ),
  );
  app.get(
    PAYOUT_RECONCILIATION_PATH,
    route((req) => new PayoutReconciliationService(orm.em.fork(), payoutLists).run(req.query)),
  );
}
