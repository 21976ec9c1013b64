import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { AddressService } from './service';

/** Internal REST (docs/internal-api.md): the address an order ships to; callers check `userId` themselves. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    '/api/addresses/:addressId',
    route(async (req) => new AddressService(orm.em.fork()).snapshot(String(req.params.addressId))),
  );
}
