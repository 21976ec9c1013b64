import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { secretsEqual } from '../lib/internal-auth';
import type { Logger } from '../lib/logger';
import { faultRequestSchema, slowdownRequestSchema } from './faults';
import {
  createInvoiceSchema,
  createRefundSchema,
  pageOf,
  type TimeRange,
  type XenditAccount,
  XenditError,
} from './xendit-account';
import { completePayoutSchema, createPayoutSchema, type XenditPayouts } from './xendit-payouts';

type EndpointGroup = 'invoices' | 'refunds' | 'payouts';

const xenditPath = {
  path: z.enum(['invoices', 'refunds', 'payouts']).optional(),
  /**
   * before (default): the call is refused or delayed before anything happens. after: the call takes effect
   * at Xendit (a payout is made) and only its answer is lost or late, as when a connection drops mid-call;
   * it hits the next calls of the group that succeed.
   */
  when: z.enum(['before', 'after']).default('before'),
};
const xenditFaultSchema = faultRequestSchema.extend(xenditPath);
const xenditSlowdownSchema = slowdownRequestSchema.extend(xenditPath);
const countSchema = faultRequestSchema.pick({ count: true });
const payoutSettingsSchema = z.object({ delayMs: z.number().int().min(0).max(3_600_000) });

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
 * Xendit's invoice, refund and payout API on the paths xendit-node calls, plus the `/__sandbox/xendit`
 * hooks that play the buyer (pay, let expire) and the banks (payout outcomes), and let tests inspect and
 * break things.
 */
export function xenditRouter(
  account: XenditAccount,
  payouts: XenditPayouts,
  options: { secretKey: string; logger: Logger },
): Router {
  const router = Router();
  const json = express.json({ limit: '1mb' });
  const expectedAuthorization = `Basic ${Buffer.from(`${options.secretKey}:`).toString('base64')}`;

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    if (secretsEqual(req.header('authorization'), expectedAuthorization)) return next();
    res.status(401).json({ error_code: 'INVALID_API_KEY', message: 'API key is not authorized for this API service' });
  };
  const faultBody = (group: EndpointGroup, status: number) => ({
    error_code: FAULT_ERROR_CODES[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'API_VALIDATION_ERROR'),
    message: `Sandbox fault injected for ${group} (HTTP ${status})`,
  });
  const injectFault = (group: EndpointGroup) => (_req: Request, res: Response, next: NextFunction) => {
    const status = account.faults.take(group);
    if (status === undefined) return next();
    res.status(status).json(faultBody(group, status));
  };
  const injectSlowdown = (group: EndpointGroup) => (_req: Request, _res: Response, next: NextFunction) => {
    const delayMs = account.slowdowns.take(group);
    if (delayMs === undefined) return next();
    setTimeout(next, delayMs);
  };
  // Faults `when: 'after'` act on the answer of a call that succeeded: everything is done, then it is lost or late.
  const injectLate = (group: EndpointGroup) => (_req: Request, res: Response, next: NextFunction) => {
    const answer = res.json.bind(res);
    res.json = ((body: unknown) => {
      if (res.statusCode >= 400) return answer(body);
      const status = account.lateFaults.take(group);
      const delayMs = account.lateSlowdowns.take(group);
      const send = () => {
        if (status === undefined) return answer(body);
        res.status(status);
        return answer(faultBody(group, status));
      };
      if (delayMs === undefined) return send();
      const timer = setTimeout(send, delayMs);
      // A caller that gave up (or died) meanwhile has no one to answer.
      res.on('close', () => clearTimeout(timer));
      return res;
    }) as Response['json'];
    next();
  };
  const api = (group: EndpointGroup) => [
    authenticate,
    injectFault(group),
    injectSlowdown(group),
    injectLate(group),
    json,
  ];

  // Express routing is not strict, so this also serves xendit-node's `/v2/invoices/`.
  router.post('/v2/invoices', ...api('invoices'), (req, res) => {
    res.json(account.createInvoice(parseBody(createInvoiceSchema, req.body)));
  });
  // xendit-node's getInvoices: a bare array, newest first, paged by `last_invoice_id` (the SDK sends `last_invoice`).
  router.get('/v2/invoices', ...api('invoices'), (req, res) => {
    const query = parseBody(invoiceListQuerySchema, req.query);
    res.json(
      account.listInvoices({
        externalId: query.external_id,
        statuses: query.statuses,
        limit: query.limit,
        created: range(query.created_after, query.created_before),
        paid: range(query.paid_after, query.paid_before),
        expired: range(query.expired_after, query.expired_before),
        lastInvoiceId: query.last_invoice_id ?? query.last_invoice,
      }),
    );
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
  // xendit-node's getAllRefunds: `{ data, has_more }`, newest first, paged by `after_id` / `before_id`.
  router.get('/refunds', ...api('refunds'), (req, res) => {
    const query = parseBody(refundListQuerySchema, req.query);
    res.json(
      account.listRefunds({
        invoiceId: query.invoice_id,
        paymentRequestId: query.payment_request_id,
        limit: query.limit,
        afterId: query.after_id,
        beforeId: query.before_id,
      }),
    );
  });
  router.get('/refunds/:refundId', ...api('refunds'), (req: Request<{ refundId: string }>, res: Response) => {
    res.json(account.findRefund(req.params.refundId).refund);
  });

  router.post('/v2/payouts', ...api('payouts'), (req, res) => {
    const idempotencyKey = req.header('idempotency-key');
    if (!idempotencyKey) {
      throw new XenditError(400, 'API_VALIDATION_ERROR', 'The Idempotency-key header is required', [
        { path: 'Idempotency-key', message: 'Required' },
      ]);
    }
    res.json(payouts.create(parseBody(createPayoutSchema, req.body), idempotencyKey));
  });
  // xendit-node's getPayouts: by reference_id (required, as at Xendit), newest first, paged by `after_id` /
  // `before_id`; `links` names the next page while there is one.
  router.get('/v2/payouts', ...api('payouts'), (req, res) => {
    const query = parseBody(payoutListQuerySchema, req.query);
    const newestFirst = payouts
      .list({ referenceId: query.reference_id })
      .map((r) => r.payout)
      .reverse();
    const page = pageOf(newestFirst, (payout) => payout.id, {
      limit: query.limit,
      afterId: query.after_id,
      beforeId: query.before_id,
    });
    const last = page.data.at(-1);
    const next = new URLSearchParams({
      reference_id: query.reference_id,
      limit: String(query.limit),
      ...(last ? { after_id: last.id } : {}),
    });
    res.json({
      ...page,
      ...(page.has_more && last ? { links: { href: `/v2/payouts?${next}`, rel: 'next', method: 'GET' } } : {}),
    });
  });
  router.get('/v2/payouts/:payoutId', ...api('payouts'), (req: Request<{ payoutId: string }>, res: Response) => {
    res.json(payouts.find(req.params.payoutId).payout);
  });
  router.post(
    '/v2/payouts/:payoutId/cancel',
    ...api('payouts'),
    (req: Request<{ payoutId: string }>, res: Response) => {
      res.json(payouts.cancel(req.params.payoutId));
    },
  );

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
    (fault.when === 'after' ? account.lateFaults : account.faults).add(fault.status, fault.count, fault.path);
    res.status(204).end();
  });
  router.post('/__sandbox/xendit/slowdowns', json, (req, res) => {
    const slowdown = parseBody(xenditSlowdownSchema, req.body);
    const plan = slowdown.when === 'after' ? account.lateSlowdowns : account.slowdowns;
    plan.add(slowdown.delayMs, slowdown.count, slowdown.path);
    res.status(204).end();
  });
  // The next `count` invoices paid through the hooks are PAID at Xendit but their callbacks never arrive.
  router.post('/__sandbox/xendit/invoice-callbacks/lose', json, (req, res) => {
    account.loseInvoiceCallbacks(parseBody(countSchema, req.body).count);
    res.status(204).end();
  });
  // The next `count` refunds succeed at Xendit but their callbacks never arrive.
  router.post('/__sandbox/xendit/refund-callbacks/lose', json, (req, res) => {
    account.loseRefundCallbacks(parseBody(countSchema, req.body).count);
    res.status(204).end();
  });

  // Payouts as the tests see them: ?reference_id= and ?idempotency_key= narrow the list (oldest first).
  router.get('/__sandbox/xendit/payouts', (req, res) => {
    const query = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
    res.json({
      payouts: payouts.list({ referenceId: query('reference_id'), idempotencyKey: query('idempotency_key') }),
    });
  });
  router.get('/__sandbox/xendit/payouts/:payoutId', (req, res) => {
    res.json(payouts.find(req.params.payoutId));
  });
  // Decides an ACCEPTED payout now: `{}` applies the sandbox's rule, or force `{status: 'SUCCEEDED'}` or
  // `{status: 'FAILED', failure_code?}`.
  router.post('/__sandbox/xendit/payouts/:payoutId/complete', json, async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const forced = body && Object.keys(body).length > 0 ? parseBody(completePayoutSchema, body) : undefined;
    res.json(await payouts.complete(req.params.payoutId, forced));
  });
  router.post('/__sandbox/xendit/payouts/:payoutId/reverse', async (req, res) => {
    res.json(await payouts.reverse(req.params.payoutId));
  });
  router.post('/__sandbox/xendit/payouts/:payoutId/callback', async (req, res) => {
    const callback = await payouts.redeliver(req.params.payoutId);
    res.json({ payout: payouts.find(req.params.payoutId).payout, callback });
  });
  // How long new payouts stay ACCEPTED; DELETE /__sandbox/state restores SANDBOX_PAYOUT_DELAY_MS.
  router.post('/__sandbox/xendit/payout-settings', json, (req, res) => {
    payouts.setDelay(parseBody(payoutSettingsSchema, req.body).delayMs);
    res.status(204).end();
  });
  // The next `count` payout outcomes happen at Xendit but their callbacks never arrive.
  router.post('/__sandbox/xendit/payout-callbacks/lose', json, (req, res) => {
    payouts.loseCallbacks(parseBody(countSchema, req.body).count);
    res.status(204).end();
  });
  // Payout callbacks wait until released (outcomes still happen and GET shows them): for poll fallbacks and
  // callbacks that arrive late.
  router.post('/__sandbox/xendit/payout-callbacks/hold', (_req, res) => {
    payouts.holdCallbacks();
    res.status(204).end();
  });
  router.post('/__sandbox/xendit/payout-callbacks/release', async (_req, res) => {
    res.json({ released: await payouts.releaseCallbacks() });
  });

  router.delete('/__sandbox/xendit/faults', (_req, res) => {
    account.clearFaults();
    res.status(204).end();
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof XenditError) {
      res.status(error.status).json({ error_code: error.errorCode, message: error.message, errors: error.errors });
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

/** `limit` as Xendit takes it: 1 to 100, 10 when absent. */
const listLimit = z.coerce.number().int().min(1).max(100).default(10);
const isoDate = z.string().datetime({ offset: true }).pipe(z.coerce.date());
const INVOICE_STATUSES = ['PENDING', 'PAID', 'SETTLED', 'EXPIRED'] as const;

const invoiceListQuerySchema = z.object({
  external_id: z.string().optional(),
  // Repeated (`statuses=PAID&statuses=SETTLED`, as xendit-node sends it) or a JSON array, as Xendit documents it.
  statuses: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : value.startsWith('[') ? jsonArray(value) : [value]))
    .pipe(z.array(z.enum(INVOICE_STATUSES)))
    .optional(),
  limit: listLimit,
  created_after: isoDate.optional(),
  created_before: isoDate.optional(),
  paid_after: isoDate.optional(),
  paid_before: isoDate.optional(),
  expired_after: isoDate.optional(),
  expired_before: isoDate.optional(),
  last_invoice_id: z.string().optional(),
  last_invoice: z.string().optional(),
});

const cursorQuery = { limit: listLimit, after_id: z.string().optional(), before_id: z.string().optional() };
const refundListQuerySchema = z.object({
  invoice_id: z.string().optional(),
  payment_request_id: z.string().optional(),
  ...cursorQuery,
});
const payoutListQuerySchema = z.object({ reference_id: z.string().min(1, 'Required'), ...cursorQuery });

function jsonArray(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Xendit filters by a time range only when both of its ends are given. */
function range(after: Date | undefined, before: Date | undefined): TimeRange | undefined {
  return after && before ? { after, before } : undefined;
}

function parseBody<Schema extends z.ZodTypeAny>(schema: Schema, body: unknown): z.infer<Schema> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: issue.path.join('.') || 'body', message: issue.message }));
  throw new XenditError(400, 'API_VALIDATION_ERROR', `${errors[0].path}: ${errors[0].message}`, errors);
}
