import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { OrderService } from './service';
import { flushSoon, type OrderServices } from './worker';
import { ORDERS_FOR_REVIEW_PATH, orderPath, orderShipmentStatusPath } from '../../lib/contracts/order';

/** Internal REST (docs/internal-api.md): bulk orders, payment and shipment callbacks, order summary, orders for review. */
export function mountRest(app: express.Express, deps: SubgraphDeps, services: OrderServices) {
  const service = () => new OrderService(deps.orm.em.fork(), deps.client, deps.config, deps.logger);
  const router = jsonRouter();
  router.post(
    '/bulk',
    route(async (req) => {
      const result = await service().createBulkOrders(req.body);
      flushSoon(services, deps.logger);
      return result;
    }),
  );
  router.post(
    '/payment-status',
    route(async (req) => {
      const result = await service().applyPaymentStatus(req.body);
      flushSoon(services, deps.logger);
      return result;
    }),
  );
  app.use('/api/orders', router);
  // lib/contracts/order.ts: logistics asks this synchronously before a pick-up, and through its outbox on delivery.
  const contracts = jsonRouter();
  contracts.post(
    orderShipmentStatusPath(':orderId'),
    route(async (req) => {
      const result = await service().applyShipmentStatus(String(req.params.orderId), req.body);
      flushSoon(services, deps.logger);
      return result;
    }),
  );
  contracts.post(
    ORDERS_FOR_REVIEW_PATH,
    route(async (req) => service().forReview(req.body)),
  );
  contracts.get(
    orderPath(':orderId'),
    route(async (req) => service().summary(String(req.params.orderId))),
  );
  app.use(contracts);
}
