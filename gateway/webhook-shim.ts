import express from 'express';
import type { Config } from '../lib/config';
import { currentRequestId, type Logger, REQUEST_ID_HEADER } from '../lib/logger';
import { INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import type { SubgraphName } from '../lib/services';

const CALLBACK_TOKEN_HEADER = 'x-callback-token';
/** Xendit's id of a delivery, the same on its retries: the receiver's dedupe key when present. */
const WEBHOOK_ID_HEADER = 'webhook-id';

/** Which service applies each kind of Xendit callback. */
const RECEIVERS: Record<string, SubgraphName> = { invoice: 'payment', refund: 'payment', payout: 'settlement' };

/**
 * Xendit calls the public gateway; the receiving service (internal) checks the callback token and
 * applies the event. The body is forwarded byte for byte so it sees exactly what Xendit sent, and its
 * answer goes back unchanged: a non-2xx makes Xendit retry.
 */
export function mountWebhookShim(app: express.Express, config: Config, logger: Logger) {
  app.post('/api/webhooks/xendit/:kind', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const kind = String(req.params.kind);
    const receiver = Object.hasOwn(RECEIVERS, kind) ? RECEIVERS[kind] : undefined;
    if (!receiver) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'Unknown webhook' } });
      return;
    }
    const forwarded = (name: string) => (req.header(name) ? { [name]: req.header(name)! } : {});
    try {
      const response = await fetch(`${config.serviceUrl(receiver)}/api/webhooks/xendit/${kind}`, {
        method: 'POST',
        headers: {
          'content-type': req.header('content-type') ?? 'application/json',
          [INTERNAL_TOKEN_HEADER]: config.INTERNAL_TOKEN,
          [REQUEST_ID_HEADER]: currentRequestId() ?? '',
          ...forwarded(CALLBACK_TOKEN_HEADER),
          ...forwarded(WEBHOOK_ID_HEADER),
        },
        body: new Uint8Array(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)),
        signal: AbortSignal.timeout(config.HTTP_TIMEOUT_MS),
      });
      res
        .status(response.status)
        .type(response.headers.get('content-type') ?? 'application/json')
        .send(await response.text());
    } catch (error) {
      logger.warn({ err: error, kind, receiver }, `${receiver} unreachable for a Xendit callback; Xendit will retry`);
      res.status(503).json({
        error: { code: 'INTERNAL_SERVER_ERROR', message: `The ${receiver} service is unavailable, retry later` },
      });
    }
  });
}
