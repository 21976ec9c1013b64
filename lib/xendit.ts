import { Xendit } from 'xendit-node';
import type { Config } from './config';

const clients = new WeakMap<Config, Xendit>();

/**
 * The process's xendit-node client, pointed at XENDIT_API_URL (the local sandbox unless configured): one per
 * config, shared by every subgraph that talks to Xendit (payment's invoices and refunds, settlement's payouts).
 */
export function xenditClient(config: Config): Xendit {
  let client = clients.get(config);
  if (!client) {
    client = new Xendit({ secretKey: config.XENDIT_SECRET_KEY, xenditURL: config.xenditApiUrl });
    clients.set(config, client);
  }
  return client;
}

/** xendit-node has no timeout of its own; a hung Xendit must not hold a caller (or a row lock) for ever. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Xendit ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
