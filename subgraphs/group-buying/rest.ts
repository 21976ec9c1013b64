import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { GroupBuyingService } from './service';
import { SessionSettlement } from './settlement';

/** Internal REST (docs/internal-api.md, group-buying). */
export function mountRest(app: express.Express, { orm, client, config, logger }: SubgraphDeps) {
  const router = jsonRouter();
  // The external cron's hook; the built-in scheduler runs the same sweep.
  router.post(
    '/process-expired',
    route(async () => ({
      processed: await new SessionSettlement(orm.em.fork(), client, config, logger).processExpired(),
    })),
  );
  router.post(
    '/participants/payment-status',
    route(async (req) => new GroupBuyingService(orm.em.fork(), client, config, logger).applyPaymentStatus(req.body)),
  );
  app.use('/api/group-buying', router);
}
