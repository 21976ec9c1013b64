import express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { NotificationService } from './service';

/** Internal REST (docs/internal-api.md, notification). */
export function mountRest(app: express.Express, { orm }: SubgraphDeps) {
  app.post(
    '/api/notifications',
    express.json({ limit: '256kb' }),
    route((req) => new NotificationService(orm.em.fork()).create(req.body)),
  );
}
