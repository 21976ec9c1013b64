import type express from 'express';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { xenditCallback } from '../../lib/xendit';
import { PayoutWebhooks } from './webhooks';

const WEBHOOK_ID_HEADER = 'webhook-id';

/** The Xendit payout callbacks the gateway forwards (docs/internal-api.md, settlement). */
export function mountRest(app: express.Express, { orm, config, logger }: SubgraphDeps) {
  app.post(
    '/api/webhooks/xendit/payout',
    ...xenditCallback(config, (body, req) =>
      new PayoutWebhooks(orm.em.fork(), logger).payout(body, req.header(WEBHOOK_ID_HEADER)),
    ),
  );
}
