import type express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { FactoryService } from './service';
import { ownedFactoriesPath } from '../../lib/factory-access';
import { factoryPath } from '../../lib/contracts/seller';

/** Internal REST (docs/internal-api.md): who owns a factory, and which factories a user owns. */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.get(
    ownedFactoriesPath(':userId'),
    route(async (req) => {
      const factories = await new FactoryService(orm.em.fork()).ownedBy(String(req.params.userId));
      return { factoryIds: factories.map((factory) => factory.id) };
    }),
  );
  app.get(
    factoryPath(':id'),
    route(async (req) => new FactoryService(orm.em.fork()).snapshot(String(req.params.id))),
  );
}
