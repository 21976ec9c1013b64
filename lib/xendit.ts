import express, { type Request } from 'express';
import { Xendit } from 'xendit-node';
import type { Config } from './config';
import { secretsEqual } from './internal-auth';
import { route, sendError } from './rest';

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

/**
 * The handlers of one Xendit callback route: the raw body, so the `x-callback-token` is checked (in constant
 * time; 401 and nothing changes) before anything is parsed, and a malformed body is our own 400; then `apply`
 * with the parsed body, whose answer is the response.
 */
export function xenditCallback(config: Config, apply: (body: unknown, req: Request) => Promise<unknown>) {
  return [
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
