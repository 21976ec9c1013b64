import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type Config, ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { CallbackSender } from './callbacks';
import { checkoutRouter } from './checkout-page';
import { WhatsAppCloud, whatsappRouter } from './whatsapp';
import { XenditAccount } from './xendit-account';
import { XenditPayouts } from './xendit-payouts';
import { xenditRouter } from './xendit';

export interface SandboxOptions {
  /** 0 picks a free port (tests); default `config.sandboxPort`. */
  port?: number;
  config?: Config;
  /** The base of `invoice_url`; default `config.sandboxUrl`, or the listening address when `port` is given. */
  publicUrl?: string;
  /** Where Xendit callbacks go (`/api/webhooks/xendit/{invoice,refund,payout}` below it); default the gateway. */
  webhookBaseUrl?: string;
  /** Waits between callback attempts; default 0.5 s doubling to 8 s (Xendit's schedule, compressed). */
  callbackRetryDelaysMs?: readonly number[];
}

export interface SandboxState {
  xendit: XenditAccount;
  payouts: XenditPayouts;
  whatsapp: WhatsAppCloud;
  /** Forgets every invoice, refund, payout, message, fault and pending callback retry or payout outcome. */
  reset(): void;
}

export interface RunningSandbox {
  /** Where the sandbox listens, for clients on this machine. */
  url: string;
  publicUrl: string;
  state: SandboxState;
  stop(): Promise<void>;
}

/** Grace time for open requests on shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 1000;

/** Starts the local Xendit and WhatsApp Cloud API stand-in on one HTTP server. */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const config = options.config ?? loadConfig();
  // It fakes payments with the real callback token: anywhere near production it could mark invoices paid.
  if (config.NODE_ENV === 'production')
    throw new ConfigError(['NODE_ENV: the sandbox is a development stand-in and does not run in production']);
  const logger = createLogger('sandbox', config.LOG_LEVEL);
  const callbacks = new CallbackSender(config.XENDIT_CALLBACK_TOKEN, logger, options.callbackRetryDelaysMs);

  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.sandboxPort, resolve);
  });
  // Routes are mounted right after `listen` resolves, before the event loop can hand over a request:
  // the public URL may depend on the port the system picked.
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  const publicUrl = withoutTrailingSlash(options.publicUrl ?? (options.port === undefined ? config.sandboxUrl : url));
  const webhookBaseUrl = withoutTrailingSlash(options.webhookBaseUrl ?? config.xenditWebhookBaseUrl);

  const xendit = new XenditAccount({ publicUrl, webhookBaseUrl, callbacks });
  const payouts = new XenditPayouts({ webhookBaseUrl, callbacks, delayMs: config.SANDBOX_PAYOUT_DELAY_MS, logger });
  const whatsapp = new WhatsAppCloud();
  const state: SandboxState = {
    xendit,
    payouts,
    whatsapp,
    reset() {
      callbacks.cancelRetries();
      xendit.reset();
      payouts.reset();
      whatsapp.reset();
    },
  };

  app.use((req, res, next) => {
    res.on('finish', () =>
      logger.debug({ method: req.method, path: req.originalUrl, status: res.statusCode }, 'sandbox request'),
    );
    next();
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.delete('/__sandbox/state', (_req, res) => {
    state.reset();
    res.status(204).end();
  });
  app.use(xenditRouter(xendit, payouts, { secretKey: config.XENDIT_SECRET_KEY, logger }));
  app.use(whatsappRouter(whatsapp, { token: config.WHATSAPP_TOKEN, phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID }));
  app.use(checkoutRouter(xendit));
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error_code: 'NOT_FOUND', message: `The sandbox has no ${req.method} ${req.path}` });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error, method: req.method, path: req.originalUrl }, 'sandbox request failed');
    res.status(500).json({ error_code: 'SERVER_ERROR', message: 'The sandbox failed to handle this request' });
  });

  logger.info({ url, publicUrl, webhookBaseUrl }, 'sandbox ready');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve, reject) => {
      callbacks.cancelRetries();
      payouts.stop();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    }));
  return { url, publicUrl, state, stop };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
