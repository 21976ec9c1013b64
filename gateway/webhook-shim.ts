import express from 'express';
import type { Config } from '../lib/config';
import { currentRequestId, type Logger, REQUEST_ID_HEADER } from '../lib/logger';
import { INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';

const CALLBACK_TOKEN_HEADER = 'x-callback-token';

/**
 * Xendit calls the public gateway; payment (internal) checks the callback token and applies the
 * event. The body is forwarded byte for byte so payment sees exactly what Xendit sent, and payment's
 * answer goes back unchanged: a non-2xx makes Xendit retry.
 */
export function mountWebhookShim(app: express.Express, config: Config, logger: Logger) {
  app.post('/api/webhooks/xendit/:kind', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const kind = String(req.params.kind);
    if (kind !== 'invoice' && kind !== 'refund') {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'Unknown webhook' } });
      return;
    }
    try {
      const response = await fetch(`${config.serviceUrl('payment')}/api/webhooks/xendit/${kind}`, {
        method: 'POST',
        headers: {
          'content-type': req.header('content-type') ?? 'application/json',
          [INTERNAL_TOKEN_HEADER]: config.INTERNAL_TOKEN,
          [REQUEST_ID_HEADER]: currentRequestId() ?? '',
          ...(req.header(CALLBACK_TOKEN_HEADER) ? { [CALLBACK_TOKEN_HEADER]: req.header(CALLBACK_TOKEN_HEADER)! } : {}),
        },
        body: new Uint8Array(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)),
        signal: AbortSignal.timeout(config.HTTP_TIMEOUT_MS),
      });
      res
        .status(response.status)
        .type(response.headers.get('content-type') ?? 'application/json')
        .send(await response.text());
    } catch (error) {
      logger.warn({ err: error, kind }, 'payment unreachable for a Xendit callback; Xendit will retry');
      res
        .status(503)
        .json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Payment service unavailable, retry later' } });
    }
  });
}
