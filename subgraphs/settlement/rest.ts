import express, { type Request } from 'express';
import { route, sendError } from '../../lib/rest';
import { secretsEqual } from '../../lib/internal-auth';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { PayoutWebhooks } from './webhooks';

const CALLBACK_TOKEN_HEADER = 'x-callback-token';
const WEBHOOK_ID_HEADER = 'webhook-id';

/** The Xendit payout callbacks the gateway forwards (docs/internal-api.md, settlement). */
export function mountRest(app: express.Express, { orm, config, logger }: SubgraphDeps) {
  // Raw body: the token is checked before anything is parsed, and a malformed body is our own 400.
  app.post(
    '/api/webhooks/xendit/payout',
    express.raw({ type: () => true, limit: '1mb' }),
    route(async (req: Request, res) => {
      if (!secretsEqual(req.header(CALLBACK_TOKEN_HEADER), config.XENDIT_CALLBACK_TOKEN)) {
        sendError(res, 401, 'UNAUTHENTICATED', 'Invalid callback token');
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      } catch {
        sendError(res, 400, 'BAD_USER_INPUT', 'Malformed JSON body');
        return;
      }
      return new PayoutWebhooks(orm.em.fork(), logger).payout(body, req.header(WEBHOOK_ID_HEADER));
    }),
  );
}
