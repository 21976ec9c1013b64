import type express from 'express';
import { jsonRouter, route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { WalletService } from './service';

/** Internal REST (docs/internal-api.md): credits (refunds to wallet) and debits, idempotent per reference. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  const router = jsonRouter();
  router.post(
    '/credit',
    route(async (req) => new WalletService(orm.em.fork()).credit(req.body)),
  );
  router.post(
    '/debit',
    route(async (req) => new WalletService(orm.em.fork()).debit(req.body)),
  );
  router.get(
    '/:userId',
    route(async (req) => new WalletService(orm.em.fork()).summary(String(req.params.userId))),
  );
  app.use('/api/wallets', router);
}
