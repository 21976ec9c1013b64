import express, { type Request } from 'express';
import { route, sendError } from '../../lib/rest';
import { secretsEqual } from '../../lib/internal-auth';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { PaymentService } from './service';
import { FactoryMoneyService } from './factory-money';
import {
  factoryBalancePath,
  orderDeliveredPath,
  PAYOUT_RESERVE_PATH,
  PAYOUT_SETTLE_PATH,
  REFUND_ORDER_PATH,
} from '../../lib/contracts/seller';
import { XenditWebhooks } from './webhooks';
import { type PaymentGateway, xenditGateway } from './xendit';

const CALLBACK_TOKEN_HEADER = 'x-callback-token';

/** Internal REST (docs/internal-api.md, payment) and the Xendit callbacks the gateway forwards. */
export function mountRest(
  app: express.Express,
  deps: SubgraphDeps,
  gateway: PaymentGateway = xenditGateway(deps.config),
) {
  const { orm, config, logger } = deps;
  const regularInvoiceSeconds = Math.max(1, Math.round(config.UNPAID_HOLD_MINUTES * 60));
  const service = () =>
    new PaymentService(orm.em.fork(), gateway, logger, { regularInvoiceSeconds, feeBps: config.PLATFORM_FEE_BPS });
  const factoryMoney = () => new FactoryMoneyService(orm.em.fork());

  // Raw body: the token is checked before anything is parsed, and a malformed body is our own 400.
  const callback = (apply: (webhooks: XenditWebhooks, body: unknown) => Promise<unknown>) => [
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
      return apply(new XenditWebhooks(orm.em.fork(), logger), body);
    }),
  ];
  app.post('/api/webhooks/xendit/invoice', ...callback((webhooks, body) => webhooks.invoice(body)));
  app.post('/api/webhooks/xendit/refund', ...callback((webhooks, body) => webhooks.refund(body)));
  // The benchmark's baseline: the same process and middleware, no work.
  app.post('/api/webhooks/noop', express.raw({ type: () => true, limit: '1mb' }), (_req, res) => {
    res.json({ ok: true });
  });

  const json = express.json({ limit: '1mb' });
  app.post(
    '/api/payments',
    json,
    route((req) => service().createRegular(req.body)),
  );
  app.post(
    '/api/payments/escrow',
    json,
    route((req) => service().createEscrow(req.body)),
  );
  app.post(
    '/api/payments/expire-session',
    json,
    route((req) => service().expireSession(req.body)),
  );
  app.post(
    '/api/payments/abandon',
    json,
    route((req) => service().abandon(req.body)),
  );
  app.post(
    '/api/payments/release-escrow',
    json,
    route((req) => service().releaseEscrow(req.body)),
  );
  app.post(
    '/api/payments/refund-session',
    json,
    route((req) => service().refundSession(req.body)),
  );
  app.post(
    '/api/payments/link-orders',
    json,
    route((req) => service().linkOrders(req.body)),
  );
  app.post(
    '/api/payments/refunds/submit',
    json,
    route((req) => service().sendRefund(req.body)),
  );
  app.post(
    orderDeliveredPath(':orderId'),
    route((req) => service().orderDelivered(String(req.params.orderId))),
  );
  app.post(
    REFUND_ORDER_PATH,
    json,
    route((req) => service().refundOrder(req.body)),
  );
  app.post(
    PAYOUT_RESERVE_PATH,
    json,
    route((req) => factoryMoney().reservePayout(req.body)),
  );
  app.post(
    PAYOUT_SETTLE_PATH,
    json,
    route((req) => factoryMoney().settlePayout(req.body)),
  );
  app.get(
    factoryBalancePath(':factoryId'),
    route((req) => factoryMoney().balance(String(req.params.factoryId))),
  );
  app.get(
    '/api/payments/ledger/invariants',
    route(() => service().ledgerInvariants()),
  );
  app.get(
    '/api/payments/ledger/accounts/:account',
    route((req) => service().accountBalance(String(req.params.account))),
  );
  app.get(
    '/api/payments/by-order/:orderId',
    route((req) => service().byOrder(String(req.params.orderId))),
  );
}
