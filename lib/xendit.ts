import express, { type Request } from 'express';
import { Xendit } from 'xendit-node';
import type { Config } from './config';
import { secretsEqual } from './internal-auth';
import { route, sendError } from './rest';
import { webhookCallbacks } from './metrics';

export const CALLBACK_TOKEN_HEADER = 'x-callback-token';

/**
 * A xendit-node client pointed at XENDIT_API_URL (the local sandbox unless configured), for the gateway a
 * subgraph builds once at start (payment's invoices and refunds, settlement's payouts).
 */
export function xenditClient(config: Config): Xendit {
  return new Xendit({ secretKey: config.XENDIT_SECRET_KEY, xenditURL: config.xenditApiUrl });
}

/** xendit-node has no timeout of its own; a hung Xendit must not hold a caller (or a row lock) for ever. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Xendit ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** webhook_callbacks_total by the answer: accepted (2xx, a replay included), unauthenticated, malformed, refused, failed. */
const countOutcome: express.RequestHandler = (req, res, next) => {
  res.once('finish', () => {
    const status = res.statusCode;
    const outcome =
      status < 300
        ? 'accepted'
        : status === 401
          ? 'unauthenticated'
          : status === 400
            ? 'malformed'
            : status < 500
              ? 'refused'
              : 'failed';
    webhookCallbacks.inc({
      route: `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ''}`,
      outcome,
    });
  });
  next();
};

/**
 * The handlers of one Xendit callback route: the raw body, so the `x-callback-token` is checked (in constant
 * time; 401 and nothing changes) before anything is parsed, and a malformed body is our own 400; then `apply`
 * with the parsed body, whose answer is the response.
 */
export function xenditCallback(config: Config, apply: (body: unknown, req: Request) => Promise<unknown>) {
  return [
    countOutcome,
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
      return apply(body, req);
    }),
  ];
}
