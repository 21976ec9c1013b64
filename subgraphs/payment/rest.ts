import express from 'express';
import { route } from '../../lib/rest';
import { xenditCallback } from '../../lib/xendit';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { type PaymentDeps, PaymentService } from './service';
import { FactoryMoneyService } from './factory-money';
import {
  factoryBalancePath,
  orderDeliveredPath,
  PAYOUT_RESERVE_PATH,
  PAYOUT_SETTLE_PATH,
  REFUND_ORDER_PATH,
} from '../../lib/contracts/seller';
import { XenditWebhooks } from './webhooks';
import { ReconciliationService } from './reconciliation';
import { RECONCILIATION_PATH } from '../../lib/contracts/reconciliation';

/** Internal REST (docs/internal-api.md, payment) and the Xendit callbacks the gateway forwards. */
export function mountRest(app: express.Express, { orm, config, logger, client }: SubgraphDeps, payment: PaymentDeps) {
  const service = () => new PaymentService(orm.em.fork(), payment);
  const factoryMoney = () => new FactoryMoneyService(orm.em.fork());

  const webhooks = () => new XenditWebhooks(orm.em.fork(), logger);
  app.post('/api/webhooks/xendit/invoice', ...xenditCallback(config, (body) => webhooks().invoice(body)));
  app.post('/api/webhooks/xendit/refund', ...xenditCallback(config, (body) => webhooks().refund(body)));

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
    RECONCILIATION_PATH,
    route((req) =>
      new ReconciliationService(orm.em.fork(), { xendit: payment.xenditRecords, client, logger }).run(req.query),
    ),
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
