import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { ShipmentService } from './service';

/** Internal REST (docs/internal-api.md): shipments for paid orders, idempotent per orderId. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  const router = jsonRouter();
  router.post(
    '/bulk',
    route(async (req) => new ShipmentService(orm.em.fork()).createBulk(req.body)),
  );
  app.use('/api/shipments', router);
}
