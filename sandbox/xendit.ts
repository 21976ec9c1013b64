import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { secretsEqual } from '../lib/internal-auth';
import type { Logger } from '../lib/logger';
import { faultRequestSchema, slowdownRequestSchema } from './faults';
import { createInvoiceSchema, createRefundSchema, type XenditAccount, XenditError } from './xendit-account';

type EndpointGroup = 'invoices' | 'refunds';

const xenditPath = { path: z.enum(['invoices', 'refunds']).optional() };
const xenditFaultSchema = faultRequestSchema.extend(xenditPath);
const xenditSlowdownSchema = slowdownRequestSchema.extend(xenditPath);

/** The error codes Xendit answers with each injected status. */
const FAULT_ERROR_CODES: Record<number, string> = {
  400: 'API_VALIDATION_ERROR',
  401: 'INVALID_API_KEY',
  403: 'REQUEST_FORBIDDEN_ERROR',
  404: 'DATA_NOT_FOUND',
  409: 'DUPLICATE_ERROR',
  429: 'RATE_LIMIT_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Xendit's invoice and refund API on the paths xendit-node calls, plus the `/__sandbox/xendit` hooks
 * that play the buyer (pay, let expire) and let tests inspect and break things.
 */
export function xenditRouter(account: XenditAccount, options: { secretKey: string; logger: Logger }): Router {
  const router = Router();
  const json = express.json({ limit: '1mb' });
  const expectedAuthorization = `Basic ${Buffer.from(`${options.secretKey}:`).toString('base64')}`;

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    if (secretsEqual(req.header('authorization'), expectedAuthorization)) return next();
    res.status(401).json({ error_code: 'INVALID_API_KEY', message: 'API key is not authorized for this API service' });
  };
  const injectFault = (group: EndpointGroup) => (_req: Request, res: Response, next: NextFunction) => {
    const status = account.faults.take(group);
    if (status === undefined) return next();
    res.status(status).json({
      error_code: FAULT_ERROR_CODES[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'API_VALIDATION_ERROR'),
      message: `Sandbox fault injected for ${group} (HTTP ${status})`,
    });
  };
  const injectSlowdown = (group: EndpointGroup) => (_req: Request, _res: Response, next: NextFunction) => {
    const delayMs = account.slowdowns.take(group);
    if (delayMs === undefined) return next();
    setTimeout(next, delayMs);
  };
  const api = (group: EndpointGroup) => [authenticate, injectFault(group), injectSlowdown(group), json];

  // Express routing is not strict, so this also serves xendit-node's `/v2/invoices/`.
  router.post('/v2/invoices', ...api('invoices'), (req, res) => {
    res.json(account.createInvoice(parseBody(createInvoiceSchema, req.body)));
  });
  router.get('/v2/invoices', ...api('invoices'), (req, res) => {
    const externalId = typeof req.query.external_id === 'string' ? req.query.external_id : undefined;
    const limit = Math.min(Math.max(Number(req.query.limit) || 10, 1), 100);
    res.json(account.listInvoices({ externalId, limit }));
  });
  router.get('/v2/invoices/:invoiceId', ...api('invoices'), (req: Request<{ invoiceId: string }>, res: Response) => {
    res.json(account.findInvoice(req.params.invoiceId).invoice);
  });
  router.post(
    '/invoices/:invoiceId/expire\\!',
    ...api('invoices'),
    (req: Request<{ invoiceId: string }>, res: Response) => {
      res.json(account.expireInvoice(req.params.invoiceId));
    },
  );

  router.post('/refunds', ...api('refunds'), (req, res) => {
    const input = parseBody(createRefundSchema, req.body);
    const { refund, created } = account.createRefund(input, req.header('idempotency-key'));
    res.json(refund);
    // Like Xendit, the answer says PENDING and the outcome follows by callback.
    if (created) {
      account
        .completeRefund(refund.id)
        .catch((error) => options.logger.error({ err: error }, 'refund completion failed'));
    }
  });
  router.get('/refunds/:refundId', ...api('refunds'), (req: Request<{ refundId: string }>, res: Response) => {
    res.json(account.findRefund(req.params.refundId).refund);
  });

  router.post('/__sandbox/xendit/invoices/paid', json, (req, res) => {
    const { invoices } = parseBody(z.object({ invoices: z.array(createInvoiceSchema).min(1).max(2000) }), req.body);
    res.json({
      invoices: account
        .seedPaidInvoices(invoices)
        .map((invoice) => ({ id: invoice.id, external_id: invoice.external_id })),
    });
  });
  router.post('/__sandbox/xendit/invoices/:invoiceId/pay', async (req, res) => {
    res.json(await account.payInvoice(req.params.invoiceId));
  });
  router.post('/__sandbox/xendit/invoices/:invoiceId/expire', async (req, res) => {
    res.json(await account.lapseInvoice(req.params.invoiceId));
  });
  router.post('/__sandbox/xendit/invoices/:invoiceId/callback', async (req, res) => {
    res.json(await account.redeliverInvoiceCallback(req.params.invoiceId));
  });
  router.get('/__sandbox/xendit/invoices/:invoiceId', (req, res) => {
    res.json(account.findInvoice(req.params.invoiceId));
  });
  router.get('/__sandbox/xendit/refunds', (req, res) => {
    const invoiceId = typeof req.query.invoiceId === 'string' ? req.query.invoiceId : undefined;
    res.json({ refunds: account.refundsOf(invoiceId) });
  });
  router.post('/__sandbox/xendit/faults', json, (req, res) => {
    const fault = parseBody(xenditFaultSchema, req.body);
    account.faults.add(fault.status, fault.count, fault.path);
    res.status(204).end();
  });
  router.post('/__sandbox/xendit/slowdowns', json, (req, res) => {
    const slowdown = parseBody(xenditSlowdownSchema, req.body);
    account.slowdowns.add(slowdown.delayMs, slowdown.count, slowdown.path);
    res.status(204).end();
  });
  // The next `count` refunds succeed at Xendit but their callbacks never arrive.
  router.post('/__sandbox/xendit/refund-callbacks/lose', json, (req, res) => {
    account.loseRefundCallbacks(parseBody(faultRequestSchema.pick({ count: true }), req.body).count);
    res.status(204).end();
  });
  router.delete('/__sandbox/xendit/faults', (_req, res) => {
    account.faults.clear();
    account.slowdowns.clear();
    res.status(204).end();
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof XenditError) {
      res.status(error.status).json({ error_code: error.errorCode, message: error.message });
      return;
    }
    if ((error as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error_code: 'API_VALIDATION_ERROR', message: 'The request body is not valid JSON' });
      return;
    }
    next(error);
  });
  return router;
}

function parseBody<Schema extends z.ZodTypeAny>(schema: Schema, body: unknown): z.infer<Schema> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new XenditError(400, 'API_VALIDATION_ERROR', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}
