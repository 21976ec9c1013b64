import express from 'express';
import { route } from '../../lib/rest';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { NotificationService } from './service';
import { noticeWhatsAppPath, NOTIFICATIONS_PATH } from '../../lib/contracts/notification';

/** Internal REST (docs/internal-api.md, notification). */
export function mountRest(app: express.Express, { orm, client, config, logger }: SubgraphDeps) {
  app.post(
    NOTIFICATIONS_PATH,
    express.json({ limit: '256kb' }),
    route((req) => new NotificationService(orm.em.fork(), { client, config, logger }).create(req.body)),
  );
  app.post(
    noticeWhatsAppPath(':id'),
    route((req) =>
      new NotificationService(orm.em.fork(), { client, config, logger }).sendToWhatsApp(String(req.params.id)),
    ),
  );
}
