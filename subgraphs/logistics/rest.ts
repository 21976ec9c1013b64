import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { SHIPMENT_CANCEL_PATH, SHIPMENTS_BULK_PATH } from '../../lib/contracts/order';
import { ShipmentService } from './service';

/** Internal REST (docs/internal-api.md, lib/contracts/order.ts): shipments of orders, idempotent per orderId. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  const router = jsonRouter();
  router.post(
    SHIPMENTS_BULK_PATH,
    route(async (req) => new ShipmentService(orm.em.fork()).createBulk(req.body)),
  );
  router.post(
    SHIPMENT_CANCEL_PATH,
    route(async (req) => new ShipmentService(orm.em.fork()).cancelForOrder(req.body)),
  );
  app.use(router);
}
