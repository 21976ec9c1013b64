import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { CatalogService } from './service';

/** Internal REST (DESIGN.md §2): the product snapshot other services price from. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    '/api/products/id/:productId',
    route(async (req) => new CatalogService(orm.em.fork()).snapshot(String(req.params.productId))),
  );
  app.get(
    '/api/products/by-variant/:variantId',
    route(async (req) => new CatalogService(orm.em.fork()).snapshotByVariant(String(req.params.variantId))),
  );
}
