import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { CatalogService } from './service';
import { productByVariantPath, productPath } from '../../lib/contracts/product';

/** Internal REST (lib/contracts/product.ts, docs/internal-api.md): the product snapshot other services price from. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    productPath(':productId'),
    route(async (req) => new CatalogService(orm.em.fork()).snapshot(String(req.params.productId))),
  );
  app.get(
    productByVariantPath(':variantId'),
    route(async (req) => new CatalogService(orm.em.fork()).snapshotByVariant(String(req.params.variantId))),
  );
}
