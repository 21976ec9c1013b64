import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { InventoryService } from './service';

/** Internal REST (docs/internal-api.md): stock reservations for orders, each idempotent per orderId. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  const router = jsonRouter();
  router.post(
    '/reserve',
    route(async (req) => new InventoryService(orm.em.fork()).reserve(req.body)),
  );
  router.post(
    '/commit',
    route(async (req) => new InventoryService(orm.em.fork()).commit(req.body)),
  );
  router.post(
    '/release',
    route(async (req) => new InventoryService(orm.em.fork()).release(req.body)),
  );
  app.use('/api/inventory', router);
}
