import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { FactoryService } from './service';

/** Internal REST (docs/internal-api.md): who owns a factory, and which factories a user owns. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    '/api/factories/owned-by/:userId',
    route(async (req) => {
      const factories = await new FactoryService(orm.em.fork()).ownedBy(String(req.params.userId));
      return { factoryIds: factories.map((factory) => factory.id) };
    }),
  );
  app.get(
    '/api/factories/:id',
    route(async (req) => new FactoryService(orm.em.fork()).summary(String(req.params.id))),
  );
}
