import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { InventoryService } from './service';
import {
  INVENTORY_COMMIT_PATH,
  INVENTORY_RELEASE_PATH,
  INVENTORY_RESERVE_PATH,
  INVENTORY_RESTOCK_PATH,
} from '../../lib/contracts/warehouse';

/** Internal REST (lib/contracts/warehouse.ts, docs/internal-api.md): an order's stock, each idempotent per orderId. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  const service = () => new InventoryService(orm.em.fork());
  const router = jsonRouter();
  router.post(
    INVENTORY_RESERVE_PATH,
    route(async (req) => service().reserve(req.body)),
  );
  router.post(
    INVENTORY_COMMIT_PATH,
    route(async (req) => service().commit(req.body)),
  );
  router.post(
    INVENTORY_RELEASE_PATH,
    route(async (req) => service().release(req.body)),
  );
  router.post(
    INVENTORY_RESTOCK_PATH,
    route(async (req) => service().restock(req.body)),
  );
  app.use(router);
}
