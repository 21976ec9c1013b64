import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { AddressService } from './service';
import { addressPath, type AddressSnapshot } from '../../lib/contracts/address';

/** Internal REST (lib/contracts/address.ts, docs/internal-api.md): the address an order ships to; callers check `userId` themselves. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    addressPath(':addressId'),
    route(async (req): Promise<AddressSnapshot> =>
      new AddressService(orm.em.fork()).snapshot(String(req.params.addressId)),
    ),
  );
}
