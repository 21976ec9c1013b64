import express from 'express';
import { route } from '../../lib/rest';
import { authUserPath, authUserRolePath } from '../../lib/contracts/auth';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { AuthService } from './service';

/** Internal REST (docs/internal-api.md, auth). */
export function mountRest(app: express.Express, { orm, config }: SubgraphDeps) {
  const service = () => new AuthService(orm.em.fork(), config);
  app.get(
    '/api/auth/session-changes',
    route(async (req) => service().sessionChanges(req.query.since)),
  );
  app.get(
    '/api/auth/session-changes/current',
    route(async (req) =>
      service().currentSessionChanges({ cursor: req.query.cursor, before: req.query.before, limit: req.query.limit }),
    ),
  );
  app.get(
    '/api/auth/users/by-phone/:phone/sessions-count',
    route(async (req) => service().sessionsCount(String(req.params.phone))),
  );
  app.get(
    authUserPath(':userId'),
    route(async (req) => service().user(String(req.params.userId))),
  );
  app.post(
    authUserRolePath(':userId'),
    express.json({ limit: '16kb' }),
    route(async (req) => service().raiseRole(String(req.params.userId), req.body)),
  );
}
