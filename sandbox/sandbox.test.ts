import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Xendit, XenditSdkError } from 'xendit-node';
import { loadConfig } from '../lib/config';
import { startSandbox, type RunningSandbox } from './sandbox';

const SECRET_KEY = 'xnd_development_test_secret';
const CALLBACK_TOKEN = 'test-callback-token-123';
const WHATSAPP_TOKEN = 'test-whatsapp-token';
const PHONE_NUMBER_ID = '109876543210';

const config = loadConfig({
  NODE_ENV: 'test',
  XENDIT_SECRET_KEY: SECRET_KEY,
  XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN,
  WHATSAPP_TOKEN,
  WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
  SANDBOX_PAYOUT_DELAY_MS: '150',
  LOG_LEVEL: 'silent',
});

interface ReceivedCallback {
  path: string;
  token: string | undefined;
  webhookId: string | undefined;
  body: Record<string, any>;
}

/** Stands in for the gateway's webhook endpoints: records callbacks and answers what the test queued. */
class WebhookReceiver {
  received: ReceivedCallback[] = [];
  private answers: { status: number; body: unknown }[] = [];
  private readonly server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      this.received.push({
        path: req.url ?? '',
        token: req.headers['x-callback-token'] as string | undefined,
        webhookId: req.headers['webhook-id'] as string | undefined,
        body: JSON.parse(raw),
      });
      const answer = this.answers.shift() ?? { status: 200, body: { ok: true } };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, resolve));
    return `http://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  answerNext(status: number, body: unknown = { status }): void {
    this.answers.push({ status, body });
  }

  reset(): void {
    this.received = [];
    this.answers = [];
  }

  at(path: string): ReceivedCallback[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const INVOICE_WEBHOOK = '/api/webhooks/xendit/invoice';
const REFUND_WEBHOOK = '/api/webhooks/xendit/refund';
const PAYOUT_WEBHOOK = '/api/webhooks/xendit/payout';

let sandbox: RunningSandbox;
let receiver: WebhookReceiver;
let xendit: Xendit;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  const webhookBaseUrl = await receiver.start();
  sandbox = await startSandbox({ port: 0, config, webhookBaseUrl, callbackRetryDelaysMs: [100, 200, 300] });
  xendit = xenditClient(SECRET_KEY, sandbox.url);
});

afterAll(async () => {
  await sandbox.stop();
  await receiver.stop();
});

beforeEach(async () => {
  const reset = await fetch(`${sandbox.url}/__sandbox/state`, { method: 'DELETE' });
  expect(reset.status).toBe(204);
  receiver.reset();
});

/** xendit-node warns on every construction with a test key; that noise says nothing about the sandbox. */
function xenditClient(secretKey: string, url: string): Xendit {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    return new Xendit({ secretKey, xenditURL: url });
  } finally {
    warn.mockRestore();
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function sdkError(promise: Promise<unknown>): Promise<XenditSdkError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof XenditSdkError) return error;
    throw error;
  }
  throw new Error('expected the Xendit SDK to throw');
}

async function post(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const basicAuth = `Basic ${Buffer.from(`${SECRET_KEY}:`).toString('base64')}`;

function createInvoice(overrides: Record<string, unknown> = {}) {
  return xendit.Invoice.createInvoice({
    data: {
      externalId: `order-${Math.random().toString(36).slice(2)}`,
      amount: 150000,
      payerEmail: 'buyer@example.com',
      description: 'Kaos polos x3',
      invoiceDuration: 3600,
      successRedirectUrl: 'https://shop.example/orders/1?paid=1',
      failureRedirectUrl: 'https://shop.example/orders/1?failed=1',
      metadata: { orderId: 'order-1' },
      ...overrides,
    } as Parameters<typeof xendit.Invoice.createInvoice>[0]['data'],
  });
}

async function paidInvoice(amount = 100000) {
  const invoice = await createInvoice({ amount });
  const paid = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
  expect(paid.status).toBe(200);
  receiver.reset();
  return invoice;
}

describe('Xendit invoices through xendit-node', () => {
  it('creates an invoice the SDK parses, with a checkout URL on the sandbox', async () => {
    const before = Date.now();
    const invoice = await createInvoice();

    expect(invoice.id).toMatch(/^[0-9a-f]{24}$/);
    expect(invoice.status).toBe('PENDING');
    expect(invoice.amount).toBe(150000);
    expect(invoice.currency).toBe('IDR');
    expect(invoice.description).toBe('Kaos polos x3');
    expect(invoice.payerEmail).toBe('buyer@example.com');
    expect(invoice.invoiceUrl).toBe(`${sandbox.url}/checkout/${invoice.id}`);
    expect(invoice.expiryDate).toBeInstanceOf(Date);
    expect(invoice.expiryDate.getTime() - before).toBeGreaterThanOrEqual(3600_000 - 1000);
    expect(invoice.expiryDate.getTime() - before).toBeLessThanOrEqual(3600_000 + 5000);
    expect(invoice.created).toBeInstanceOf(Date);
    expect(invoice.shouldSendEmail).toBe(false);
    expect(invoice.successRedirectUrl).toBe('https://shop.example/orders/1?paid=1');
    expect(invoice.metadata).toEqual({ orderId: 'order-1' });
    expect(invoice.availableBanks.length).toBeGreaterThan(0);

    const fetched = await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! });
    expect(fetched.externalId).toBe(invoice.externalId);
    expect(fetched.expiryDate.toISOString()).toBe(invoice.expiryDate.toISOString());
  });

  it('accepts the path without the trailing slash and defaults the duration to a day', async () => {
    const response = await post('/v2/invoices', { external_id: 'raw-1', amount: 5000 }, { authorization: basicAuth });
    expect(response.status).toBe(200);
    expect(response.body.currency).toBe('IDR');
    const hours = (Date.parse(response.body.expiry_date) - Date.parse(response.body.created)) / 3600_000;
    expect(hours).toBeCloseTo(24, 3);
  });

  it('allows a duplicate external_id, as Xendit does, and finds invoices by it', async () => {
    const first = await createInvoice({ externalId: 'same-order' });
    const second = await createInvoice({ externalId: 'same-order' });
    expect(second.id).not.toBe(first.id);

    const found = await xendit.Invoice.getInvoices({ externalId: 'same-order' });
    expect(found.map((i) => i.id)).toEqual([second.id, first.id]);
  });

  it('refuses invalid invoices with API_VALIDATION_ERROR', async () => {
    for (const amount of [0, -5, 10.5]) {
      const error = await sdkError(createInvoice({ amount }));
      expect(error.status).toBe(400);
      expect(error.errorCode).toBe('API_VALIDATION_ERROR');
      expect(error.errorMessage).toContain('amount');
    }
    const missingExternalId = await post('/v2/invoices/', { amount: 1000 }, { authorization: basicAuth });
    expect(missingExternalId.status).toBe(400);
    expect(missingExternalId.body.message).toContain('external_id');

    const malformed = await post('/v2/invoices/', '{"amount": ', { authorization: basicAuth });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBe('API_VALIDATION_ERROR');
  });

  it('answers 401 INVALID_API_KEY to a wrong or missing secret key', async () => {
    const stranger = xenditClient('xnd_development_wrong_key', sandbox.url);
    const error = await sdkError(stranger.Invoice.createInvoice({ data: { externalId: 'x', amount: 1000 } }));
    expect(error.status).toBe(401);
    expect(error.errorCode).toBe('INVALID_API_KEY');

    const anonymous = await post('/v2/invoices/', { external_id: 'x', amount: 1000 });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error_code).toBe('INVALID_API_KEY');
  });

  it('answers 404 INVOICE_NOT_FOUND_ERROR for an unknown invoice', async () => {
    const error = await sdkError(xendit.Invoice.getInvoiceById({ invoiceId: 'nope' }));
    expect(error.status).toBe(404);
    expect(error.errorCode).toBe('INVOICE_NOT_FOUND_ERROR');
    const expire = await sdkError(xendit.Invoice.expireInvoice({ invoiceId: 'nope' }));
    expect(expire.status).toBe(404);
  });

  it('expires a pending invoice through the API without sending a callback', async () => {
    const invoice = await createInvoice();
    const expired = await xendit.Invoice.expireInvoice({ invoiceId: invoice.id! });
    expect(expired.status).toBe('EXPIRED');
    expect((await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! })).status).toBe('EXPIRED');

    const again = await xendit.Invoice.expireInvoice({ invoiceId: invoice.id! });
    expect(again.status).toBe('EXPIRED');

    const pay = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    expect(pay.status).toBe(409);
    expect(receiver.received).toEqual([]);
  });

  it('refuses to expire a paid invoice', async () => {
    const invoice = await paidInvoice();
    const error = await sdkError(xendit.Invoice.expireInvoice({ invoiceId: invoice.id! }));
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe('INVOICE_NOT_FOUND_ERROR');
    expect((await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! })).status).toBe('PAID');
  });

  it('expires an unpaid invoice once its expiry date has passed', async () => {
    const invoice = await createInvoice({ invoiceDuration: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! })).status).toBe('EXPIRED');
    expect((await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`)).status).toBe(409);
  });
});

describe('paying and expiring through the sandbox hooks', () => {
  it('pays an invoice, delivers the PAID callback, and answers with what the webhook said', async () => {
    const invoice = await createInvoice();
    receiver.answerNext(202, { received: 'yes' });

    const pay = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);

    expect(pay.status).toBe(200);
    expect(pay.body.callback).toEqual({ status: 202, body: { received: 'yes' } });
    expect(pay.body.invoice.status).toBe('PAID');
    const [callback] = receiver.at(INVOICE_WEBHOOK);
    expect(receiver.received).toHaveLength(1);
    expect(callback.token).toBe(CALLBACK_TOKEN);
    expect(callback.body).toMatchObject({
      id: invoice.id,
      external_id: invoice.externalId,
      user_id: invoice.userId,
      status: 'PAID',
      merchant_name: invoice.merchantName,
      amount: 150000,
      paid_amount: 150000,
      payment_method: 'BANK_TRANSFER',
      payment_channel: 'BCA',
      currency: 'IDR',
      payer_email: 'buyer@example.com',
      description: 'Kaos polos x3',
    });
    expect(callback.body.payment_id).toEqual(expect.any(String));
    expect(callback.body.payment_destination).toEqual(expect.any(String));
    expect(Date.parse(callback.body.paid_at)).not.toBeNaN();
    expect(Date.parse(callback.body.updated)).not.toBeNaN();

    const fetched = await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! });
    expect(fetched.status).toBe('PAID');
    expect(fetched.paymentMethod).toBe('BANK_TRANSFER');
  });

  it('reports a failed delivery and retries until the webhook accepts it', async () => {
    const invoice = await createInvoice();
    receiver.answerNext(500, { error: 'database down' });

    const pay = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    expect(pay.body.callback).toEqual({ status: 500, body: { error: 'database down' } });

    await waitFor(() => receiver.at(INVOICE_WEBHOOK).length === 2, 'the retried callback');
    const [first, retry] = receiver.at(INVOICE_WEBHOOK);
    expect(retry.body).toEqual(first.body);
    const inspected = await (await fetch(`${sandbox.url}/__sandbox/xendit/invoices/${invoice.id}`)).json();
    expect(inspected.callbacks).toHaveLength(1);
    expect(inspected.callbacks[0]).toMatchObject({ attempts: 2, delivered: true, gaveUp: false });
  });

  it('gives up after the retry schedule and keeps the callback listed as undelivered', async () => {
    const invoice = await createInvoice();
    for (let i = 0; i < 4; i += 1) receiver.answerNext(503);

    await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);

    const inspect = async () =>
      (await (await fetch(`${sandbox.url}/__sandbox/xendit/invoices/${invoice.id}`)).json()).callbacks[0];
    const deadline = Date.now() + 3000;
    while (!(await inspect()).gaveUp && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await inspect()).toMatchObject({
      attempts: 4,
      delivered: false,
      gaveUp: true,
      lastAttempt: { status: 503 },
    });
    expect(receiver.at(INVOICE_WEBHOOK)).toHaveLength(4);
  });

  it('answers the hook even when the webhook cannot be reached', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const isolated = await startSandbox({
      port: 0,
      config,
      publicUrl: 'https://pay.example/sandbox/',
      webhookBaseUrl: `http://localhost:${closedPort}`,
      callbackRetryDelaysMs: [],
    });
    try {
      const client = xenditClient(SECRET_KEY, isolated.url);
      const invoice = await client.Invoice.createInvoice({ data: { externalId: 'unreachable', amount: 1000 } });
      expect(invoice.invoiceUrl).toBe(`https://pay.example/sandbox/checkout/${invoice.id}`);

      const response = await fetch(`${isolated.url}/__sandbox/xendit/invoices/${invoice.id}/pay`, { method: 'POST' });
      const pay = await response.json();
      expect(response.status).toBe(200);
      expect(pay.invoice.status).toBe('PAID');
      expect(pay.callback).toMatchObject({ status: null, body: null, error: expect.any(String) });
    } finally {
      await isolated.stop();
    }
  });

  it('refuses to pay an invoice twice or one that does not exist', async () => {
    const invoice = await paidInvoice();
    const again = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    expect(again.status).toBe(409);
    expect(again.body.error_code).toBe('INVOICE_NOT_PENDING');
    expect(receiver.received).toEqual([]);

    const unknown = await post('/__sandbox/xendit/invoices/does-not-exist/pay');
    expect(unknown.status).toBe(404);
  });

  it('lets an invoice lapse with an EXPIRED callback carrying no payment fields', async () => {
    const invoice = await createInvoice();
    const lapse = await post(`/__sandbox/xendit/invoices/${invoice.id}/expire`);
    expect(lapse.status).toBe(200);
    expect(lapse.body.callback.status).toBe(200);

    const [callback] = receiver.at(INVOICE_WEBHOOK);
    expect(callback.token).toBe(CALLBACK_TOKEN);
    expect(callback.body).toMatchObject({ id: invoice.id, external_id: invoice.externalId, status: 'EXPIRED' });
    expect(callback.body).not.toHaveProperty('paid_amount');
    expect(callback.body).not.toHaveProperty('payment_id');

    expect((await post(`/__sandbox/xendit/invoices/${invoice.id}/expire`)).status).toBe(409);
  });

  it('re-delivers the last callback unchanged, for duplicate-delivery tests', async () => {
    const invoice = await createInvoice();
    const none = await post(`/__sandbox/xendit/invoices/${invoice.id}/callback`);
    expect(none.status).toBe(409);

    await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    const again = await post(`/__sandbox/xendit/invoices/${invoice.id}/callback`);
    expect(again.status).toBe(200);
    expect(again.body.callback.status).toBe(200);

    const deliveries = receiver.at(INVOICE_WEBHOOK);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1].body).toEqual(deliveries[0].body);
    expect(deliveries[1].body.status).toBe('PAID');
  });
});

describe('Xendit refunds through xendit-node', () => {
  it('creates a PENDING refund and then sends refund.succeeded', async () => {
    const invoice = await paidInvoice(100000);
    const refund = await xendit.Refund.createRefund({
      idempotencyKey: 'refund-key-1',
      data: {
        invoiceId: invoice.id,
        referenceId: 'participant-1',
        amount: 40000,
        currency: 'IDR',
        reason: 'CANCELLATION',
      },
    });
    expect(refund.id).toMatch(/^rfd-[0-9a-f-]{36}$/);
    expect(refund.amount).toBe(40000);
    expect(refund.currency).toBe('IDR');
    expect(refund.referenceId).toBe('participant-1');

    await waitFor(() => receiver.at(REFUND_WEBHOOK).length === 1, 'the refund callback');
    const [callback] = receiver.at(REFUND_WEBHOOK);
    expect(callback.token).toBe(CALLBACK_TOKEN);
    expect(callback.body).toMatchObject({
      event: 'refund.succeeded',
      business_id: invoice.userId,
      data: {
        id: refund.id,
        invoice_id: invoice.id,
        amount: 40000,
        currency: 'IDR',
        status: 'SUCCEEDED',
        reason: 'CANCELLATION',
        reference_id: 'participant-1',
        failure_code: null,
        refund_fee_amount: 0,
      },
    });
    expect(callback.body.data.payment_id).toEqual(expect.any(String));

    const raw = await fetch(`${sandbox.url}/refunds/${refund.id}`, { headers: { authorization: basicAuth } });
    expect((await raw.json()).status).toBe('SUCCEEDED');
    const viaSdk = await xendit.Refund.getRefund({ refundID: refund.id! });
    expect(viaSdk.amount).toBe(40000);
  });

  it('answers the same refund for the same idempotency key, and refunds once', async () => {
    const invoice = await paidInvoice(100000);
    const request = {
      idempotencyKey: 'same-key',
      data: { invoiceId: invoice.id, amount: 30000, reason: 'CANCELLATION' as const },
    };
    const first = await xendit.Refund.createRefund(request);
    const second = await xendit.Refund.createRefund(request);
    expect(second.id).toBe(first.id);

    await waitFor(() => receiver.at(REFUND_WEBHOOK).length >= 1, 'the refund callback');
    const listed = await (await fetch(`${sandbox.url}/__sandbox/xendit/refunds?invoiceId=${invoice.id}`)).json();
    expect(listed.refunds).toHaveLength(1);
    expect(listed.refunds[0].callback).toMatchObject({ delivered: true, attempts: 1 });
    expect(receiver.at(REFUND_WEBHOOK)).toHaveLength(1);

    const reused = await sdkError(xendit.Refund.createRefund({ ...request, data: { ...request.data, amount: 1000 } }));
    expect(reused.status).toBe(409);
    expect(reused.errorCode).toBe('IDEMPOTENCY_ERROR');
  });

  it('refuses refunds beyond what was paid and not yet refunded', async () => {
    const invoice = await paidInvoice(100000);
    const over = await sdkError(
      xendit.Refund.createRefund({
        idempotencyKey: 'over',
        data: { invoiceId: invoice.id, amount: 100001, reason: 'OTHERS' },
      }),
    );
    expect(over.status).toBe(400);
    expect(over.errorCode).toBe('MAXIMUM_REFUND_AMOUNT_REACHED');

    await xendit.Refund.createRefund({
      idempotencyKey: 'part-1',
      data: { invoiceId: invoice.id, amount: 60000, reason: 'OTHERS' },
    });
    const rest = await xendit.Refund.createRefund({
      idempotencyKey: 'part-2',
      data: { invoiceId: invoice.id, reason: 'OTHERS' },
    });
    expect(rest.amount).toBe(40000);
    const beyond = await sdkError(
      xendit.Refund.createRefund({
        idempotencyKey: 'part-3',
        data: { invoiceId: invoice.id, amount: 1, reason: 'OTHERS' },
      }),
    );
    expect(beyond.errorCode).toBe('MAXIMUM_REFUND_AMOUNT_REACHED');
  });

  it('refuses refunds of unpaid or unknown invoices and invalid requests', async () => {
    const unpaid = await createInvoice();
    const notPaid = await sdkError(
      xendit.Refund.createRefund({
        idempotencyKey: 'u1',
        data: { invoiceId: unpaid.id, amount: 1000, reason: 'OTHERS' },
      }),
    );
    expect(notPaid.status).toBe(400);
    expect(notPaid.errorCode).toBe('INELIGIBLE_TRANSACTION');

    const unknown = await sdkError(
      xendit.Refund.createRefund({
        idempotencyKey: 'u2',
        data: { invoiceId: 'missing', amount: 1000, reason: 'OTHERS' },
      }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.errorCode).toBe('DATA_NOT_FOUND');

    const paid = await paidInvoice();
    const noReason = await sdkError(
      xendit.Refund.createRefund({ idempotencyKey: 'u3', data: { invoiceId: paid.id, amount: 1000 } }),
    );
    expect(noReason.errorCode).toBe('API_VALIDATION_ERROR');
    const wrongCurrency = await sdkError(
      xendit.Refund.createRefund({
        idempotencyKey: 'u4',
        data: { invoiceId: paid.id, amount: 1000, currency: 'USD', reason: 'OTHERS' },
      }),
    );
    expect(wrongCurrency.errorCode).toBe('API_VALIDATION_ERROR');

    const listed = await (await fetch(`${sandbox.url}/__sandbox/xendit/refunds`)).json();
    expect(listed.refunds).toEqual([]);
  });
});

function payoutRequest(
  overrides: { key?: string; accountNumber?: string; amount?: number; referenceId?: string } = {},
) {
  return {
    idempotencyKey: overrides.key ?? `payout-key-${Math.random().toString(36).slice(2)}`,
    data: {
      referenceId: overrides.referenceId ?? 'factory-payout-1',
      channelCode: 'ID_BCA',
      channelProperties: {
        accountHolderName: 'PT Konveksi Maju',
        accountNumber: overrides.accountNumber ?? '1234567890',
      },
      amount: overrides.amount ?? 250000,
      currency: 'IDR',
      description: 'Factory payout',
    },
  };
}

async function sandboxPayouts(query = ''): Promise<any[]> {
  return (await (await fetch(`${sandbox.url}/__sandbox/xendit/payouts${query}`)).json()).payouts;
}

describe('Xendit payouts through xendit-node', () => {
  it('accepts a payout the SDK parses, then it SUCCEEDS with payout.succeeded carrying the token and a webhook-id', async () => {
    const request = payoutRequest({ key: 'payout-ok' });
    const payout = await xendit.Payout.createPayout(request);
    expect(payout.id).toMatch(/^disb-[0-9a-f]{24}$/);
    expect(payout).toMatchObject({
      status: 'ACCEPTED',
      referenceId: 'factory-payout-1',
      channelCode: 'ID_BCA',
      channelProperties: { accountHolderName: 'PT Konveksi Maju', accountNumber: '1234567890' },
      amount: 250000,
      currency: 'IDR',
      description: 'Factory payout',
      businessId: expect.any(String),
    });
    expect(payout.failureCode).toBeUndefined();
    expect(payout.created).toBeInstanceOf(Date);
    expect(payout.estimatedArrivalTime!.getTime()).toBeGreaterThan(payout.created.getTime());

    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 1, 'the payout callback');
    const [callback] = receiver.at(PAYOUT_WEBHOOK);
    expect(callback.token).toBe(CALLBACK_TOKEN);
    expect(callback.webhookId).toEqual(expect.any(String));
    expect(callback.body).toMatchObject({
      event: 'payout.succeeded',
      business_id: payout.businessId,
      created: expect.any(String),
      data: {
        id: payout.id,
        amount: 250000,
        channel_code: 'ID_BCA',
        currency: 'IDR',
        status: 'SUCCEEDED',
        reference_id: 'factory-payout-1',
        idempotency_key: 'payout-ok',
        created: payout.created.toISOString(),
        estimated_arrival_time: payout.estimatedArrivalTime!.toISOString(),
      },
    });
    expect(callback.body.data).not.toHaveProperty('failure_code');
    expect(Date.parse(callback.body.data.updated)).toBeGreaterThan(payout.created.getTime());

    const fetched = await xendit.Payout.getPayoutById({ id: payout.id });
    expect(fetched.status).toBe('SUCCEEDED');
    expect(fetched.updated.toISOString()).toBe(callback.body.data.updated);
    const [listed] = await sandboxPayouts(`?reference_id=factory-payout-1`);
    expect(listed).toMatchObject({ idempotencyKey: 'payout-ok', payout: { id: payout.id } });
    expect(listed.callbacks).toEqual([
      expect.objectContaining({ event: 'payout.succeeded', webhookId: callback.webhookId, state: 'SENT' }),
    ]);
    expect(listed.callbacks[0].delivery).toMatchObject({ delivered: true, attempts: 1 });
  });

  it('answers the same payout for the same idempotency key and pays once; another request under it is DUPLICATE_ERROR', async () => {
    const request = payoutRequest({ key: 'same-payout-key', referenceId: 'once' });
    const first = await xendit.Payout.createPayout(request);
    const again = await xendit.Payout.createPayout(request);
    expect(again.id).toBe(first.id);
    // The same request with its fields in another order is still the same request.
    const raw = await post(
      '/v2/payouts',
      {
        currency: 'IDR',
        amount: 250000,
        description: 'Factory payout',
        channel_properties: { account_number: '1234567890', account_holder_name: 'PT Konveksi Maju' },
        channel_code: 'ID_BCA',
        reference_id: 'once',
      },
      { authorization: basicAuth, 'idempotency-key': 'same-payout-key' },
    );
    expect(raw.status).toBe(200);
    expect(raw.body.id).toBe(first.id);

    const changed = await sdkError(
      xendit.Payout.createPayout({ ...request, data: { ...request.data, amount: 250001 } }),
    );
    expect(changed.status).toBe(409);
    expect(changed.errorCode).toBe('DUPLICATE_ERROR');

    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 1, 'the payout callback');
    expect(await sandboxPayouts('?reference_id=once')).toHaveLength(1);
    expect(await sandboxPayouts('?idempotency_key=same-payout-key')).toHaveLength(1);
    const afterwards = await xendit.Payout.createPayout(request);
    expect(afterwards).toMatchObject({ id: first.id, status: 'SUCCEEDED' });
    expect(receiver.at(PAYOUT_WEBHOOK)).toHaveLength(1);

    const found = await xendit.Payout.getPayouts({ referenceId: 'once' });
    expect(found.data!.map((p) => p.id)).toEqual([first.id]);
    expect(found.hasMore).toBe(false);
  });

  it('fails a payout to an account number ending in 000 with INVALID_DESTINATION and payout.failed', async () => {
    const payout = await xendit.Payout.createPayout(payoutRequest({ accountNumber: '9876543000' }));
    expect(payout.status).toBe('ACCEPTED');

    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 1, 'the payout callback');
    const [callback] = receiver.at(PAYOUT_WEBHOOK);
    expect(callback.body).toMatchObject({
      event: 'payout.failed',
      data: { id: payout.id, status: 'FAILED', failure_code: 'INVALID_DESTINATION', amount: 250000 },
    });
    const fetched = await xendit.Payout.getPayoutById({ id: payout.id });
    expect(fetched).toMatchObject({ status: 'FAILED', failureCode: 'INVALID_DESTINATION' });
  });

  it('refuses invalid payouts with API_VALIDATION_ERROR naming each field, and records none', async () => {
    const invalid = async (data: Record<string, unknown>, path: string) => {
      const request = payoutRequest();
      const error = await sdkError(
        xendit.Payout.createPayout({ ...request, data: { ...request.data, ...data } as typeof request.data }),
      );
      expect(error.status).toBe(400);
      expect(error.errorCode).toBe('API_VALIDATION_ERROR');
      expect((error.rawResponse as any).errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    };
    await invalid({ channelCode: 'PH_GCASH' }, 'channel_code');
    await invalid({ amount: 1500.5 }, 'amount');
    await invalid({ amount: 0 }, 'amount');
    await invalid({ currency: 'USD' }, 'currency');
    await invalid({ referenceId: '' }, 'reference_id');
    await invalid({ channelProperties: { accountNumber: '123' } }, 'channel_properties.account_holder_name');
    await invalid(
      { channelProperties: { accountHolderName: 'X', accountNumber: ' ' } },
      'channel_properties.account_number',
    );

    const noKey = await post('/v2/payouts', { reference_id: 'x' }, { authorization: basicAuth });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error_code).toBe('API_VALIDATION_ERROR');
    expect(noKey.body.message).toMatch(/Idempotency-key/);

    const wrongKey = xenditClient('xnd_development_wrong', sandbox.url);
    expect((await sdkError(wrongKey.Payout.createPayout(payoutRequest()))).errorCode).toBe('INVALID_API_KEY');
    const unknown = await sdkError(xendit.Payout.getPayoutById({ id: 'disb-missing' }));
    expect(unknown.status).toBe(404);
    expect(unknown.errorCode).toBe('DATA_NOT_FOUND');

    expect(await sandboxPayouts()).toEqual([]);
  });

  it('cancels a payout only while it is ACCEPTED, without a callback', async () => {
    // Xendit's test scenario: a payout to 131313 stays ACCEPTED.
    const payout = await xendit.Payout.createPayout(payoutRequest({ accountNumber: '131313' }));
    const cancelled = await xendit.Payout.cancelPayout({ id: payout.id });
    expect(cancelled).toMatchObject({ id: payout.id, status: 'CANCELLED' });

    const twice = await sdkError(xendit.Payout.cancelPayout({ id: payout.id }));
    expect(twice.status).toBe(400);
    expect(twice.errorCode).toBe('CANCELLATION_NOT_ALLOWED');
    expect((await post(`/__sandbox/xendit/payouts/${payout.id}/complete`)).status).toBe(409);
    expect((await xendit.Payout.getPayoutById({ id: payout.id })).status).toBe('CANCELLED');

    const sent = await xendit.Payout.createPayout(payoutRequest());
    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 1, 'the payout callback');
    expect((await sdkError(xendit.Payout.cancelPayout({ id: sent.id }))).errorCode).toBe('CANCELLATION_NOT_ALLOWED');
    expect(receiver.at(PAYOUT_WEBHOOK).map((c) => c.body.data.id)).toEqual([sent.id]);
    expect((await sdkError(xendit.Payout.cancelPayout({ id: 'disb-missing' }))).status).toBe(404);
  });

  it('decides a payout on demand and reverses a SUCCEEDED one with payout.reversed', async () => {
    const payout = await xendit.Payout.createPayout(payoutRequest({ accountNumber: '131313' }));
    const forced = await post(`/__sandbox/xendit/payouts/${payout.id}/complete`, { status: 'SUCCEEDED' });
    expect(forced.status).toBe(200);
    expect(forced.body.payout.status).toBe('SUCCEEDED');
    expect((await post(`/__sandbox/xendit/payouts/${payout.id}/complete`)).status).toBe(409);

    const reversed = await post(`/__sandbox/xendit/payouts/${payout.id}/reverse`);
    expect(reversed.status).toBe(200);
    expect(reversed.body.payout.status).toBe('REVERSED');
    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 2, 'both payout callbacks');
    const [succeeded, reversal] = receiver.at(PAYOUT_WEBHOOK);
    expect(succeeded.body.event).toBe('payout.succeeded');
    expect(reversal.body).toMatchObject({ event: 'payout.reversed', data: { id: payout.id, status: 'REVERSED' } });
    expect(reversal.webhookId).not.toBe(succeeded.webhookId);
    expect((await xendit.Payout.getPayoutById({ id: payout.id })).status).toBe('REVERSED');
    expect((await post(`/__sandbox/xendit/payouts/${payout.id}/reverse`)).status).toBe(409);

    const failing = await xendit.Payout.createPayout(payoutRequest({ accountNumber: '131313' }));
    const failed = await post(`/__sandbox/xendit/payouts/${failing.id}/complete`, {
      status: 'FAILED',
      failure_code: 'REJECTED_BY_CHANNEL',
    });
    expect(failed.body.payout).toMatchObject({ status: 'FAILED', failure_code: 'REJECTED_BY_CHANNEL' });
    expect((await post(`/__sandbox/xendit/payouts/${failing.id}/reverse`)).status).toBe(409);
    expect((await post(`/__sandbox/xendit/payouts/${failing.id}/complete`, { status: 'LOST' })).status).toBe(400);
  });

  it('holds callbacks until released, loses them on request, and re-delivers one with its webhook-id', async () => {
    expect((await post('/__sandbox/xendit/payout-settings', { delayMs: 0 })).status).toBe(204);
    expect((await post('/__sandbox/xendit/payout-callbacks/hold')).status).toBe(204);
    const held = await xendit.Payout.createPayout(payoutRequest({ referenceId: 'held' }));
    const failing = await xendit.Payout.createPayout(payoutRequest({ referenceId: 'held', accountNumber: '1000' }));
    await eventuallyStatus(held.id, 'SUCCEEDED');
    await eventuallyStatus(failing.id, 'FAILED');
    expect(receiver.at(PAYOUT_WEBHOOK)).toHaveLength(0);
    expect((await sandboxPayouts('?reference_id=held')).map((r) => r.callbacks[0].state)).toEqual(['HELD', 'HELD']);

    const released = await post('/__sandbox/xendit/payout-callbacks/release');
    expect(released.body).toEqual({ released: 2 });
    expect(receiver.at(PAYOUT_WEBHOOK).map((c) => c.body.event)).toEqual(['payout.succeeded', 'payout.failed']);

    expect((await post('/__sandbox/xendit/payout-callbacks/lose', { count: 1 })).status).toBe(204);
    const lost = await xendit.Payout.createPayout(payoutRequest({ referenceId: 'lost' }));
    await eventuallyStatus(lost.id, 'SUCCEEDED');
    const [record] = await sandboxPayouts('?reference_id=lost');
    expect(record.callbacks).toEqual([expect.objectContaining({ event: 'payout.succeeded', state: 'LOST' })]);
    expect(receiver.at(PAYOUT_WEBHOOK)).toHaveLength(2);

    const redelivered = await post(`/__sandbox/xendit/payouts/${held.id}/callback`);
    expect(redelivered.body.callback.status).toBe(200);
    const deliveries = receiver.at(PAYOUT_WEBHOOK).filter((c) => c.body.data.id === held.id);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1].webhookId).toBe(deliveries[0].webhookId);
    expect(deliveries[1].body).toEqual(deliveries[0].body);
  });

  it('retries a payout callback the receiver refused', async () => {
    receiver.answerNext(503);
    const payout = await xendit.Payout.createPayout(payoutRequest());
    await waitFor(() => receiver.at(PAYOUT_WEBHOOK).length === 2, 'the retried payout callback');
    const [refused, retried] = receiver.at(PAYOUT_WEBHOOK);
    expect(retried.webhookId).toBe(refused.webhookId);
    const [record] = await sandboxPayouts();
    expect(record.payout.id).toBe(payout.id);
    expect(record.callbacks[0].delivery).toMatchObject({ delivered: true, attempts: 2 });
  });

  it('fails the next create before recording it, or records it and loses or delays the answer', async () => {
    await post('/__sandbox/xendit/faults', { status: 503, path: 'payouts' });
    const refused = await sdkError(xendit.Payout.createPayout(payoutRequest({ key: 'faulty' })));
    expect(refused.status).toBe(503);
    expect(await sandboxPayouts()).toEqual([]);

    await post('/__sandbox/xendit/faults', { status: 500, path: 'payouts', when: 'after' });
    const lostAnswer = await sdkError(xendit.Payout.createPayout(payoutRequest({ key: 'faulty' })));
    expect(lostAnswer.status).toBe(500);
    const [made] = await sandboxPayouts('?idempotency_key=faulty');
    expect(made.payout.status).toBe('ACCEPTED');
    // The caller retries with its key and learns of the payout Xendit already made.
    const retried = await xendit.Payout.createPayout(payoutRequest({ key: 'faulty' }));
    expect(retried.id).toBe(made.payout.id);

    await post('/__sandbox/xendit/slowdowns', { delayMs: 60_000, path: 'payouts', when: 'after' });
    const slowKey = 'slow-answer';
    const abort = new AbortController();
    const slow = fetch(`${sandbox.url}/v2/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth, 'idempotency-key': slowKey },
      body: JSON.stringify({
        reference_id: 'slow',
        channel_code: 'ID_OVO',
        channel_properties: { account_number: '081234567890', account_holder_name: 'Budi' },
        amount: 50000,
        currency: 'IDR',
      }),
      signal: abort.signal,
    }).catch((error: Error) => error);
    // The payout exists (and goes on to succeed) while its answer is still on the way: a caller dying now
    // leaves a payout it never heard of.
    await waitFor(
      () => receiver.at(PAYOUT_WEBHOOK).some((c) => c.body.data.reference_id === 'slow'),
      'the slow payout callback',
    );
    expect(await sandboxPayouts(`?idempotency_key=${slowKey}`)).toHaveLength(1);
    abort.abort();
    expect(await slow).toMatchObject({ name: 'AbortError' });
  });
});

async function eventuallyStatus(payoutId: string, status: string): Promise<void> {
  let current: string | undefined;
  const deadline = Date.now() + 3000;
  while ((current = (await xendit.Payout.getPayoutById({ id: payoutId })).status) !== status) {
    if (Date.now() > deadline) throw new Error(`payout ${payoutId} stayed ${current}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Xendit lists through xendit-node, paged as Xendit pages them', () => {
  const get = async (path: string) => {
    const response = await fetch(`${sandbox.url}${path}`, { headers: { authorization: basicAuth } });
    return { status: response.status, body: await response.json() };
  };

  it('lists paid invoices in a paid-at window, newest first, a page at a time by last_invoice', async () => {
    const from = new Date(Date.now() - 1000);
    const first = await paidInvoice(11000);
    const unpaid = await createInvoice({ amount: 12000 });
    const second = await paidInvoice(13000);
    const to = new Date(Date.now() + 1000);

    const window = { statuses: ['PAID', 'SETTLED'] as ('PAID' | 'SETTLED')[], paidAfter: from, paidBefore: to };
    const page1 = await xendit.Invoice.getInvoices({ ...window, limit: 1 });
    expect(page1.map((i) => i.id)).toEqual([second.id]);
    const page2 = await xendit.Invoice.getInvoices({ ...window, limit: 1, lastInvoice: page1[0].id });
    expect(page2.map((i) => [i.id, i.status, i.amount])).toEqual([[first.id, 'PAID', 11000]]);
    expect(await xendit.Invoice.getInvoices({ ...window, limit: 1, lastInvoice: page2[0].id })).toEqual([]);

    // A window that closed before they were paid has none; one end alone filters nothing, as at Xendit.
    expect(await xendit.Invoice.getInvoices({ ...window, paidBefore: from })).toEqual([]);
    expect((await xendit.Invoice.getInvoices({ paidBefore: from })).map((i) => i.id)).toEqual([
      second.id,
      unpaid.id,
      first.id,
    ]);
    // Statuses as Xendit documents them too: a JSON array.
    const documented = await get(`/v2/invoices?statuses=${encodeURIComponent('["PENDING"]')}`);
    expect(documented.body.map((i: { id: string }) => i.id)).toEqual([unpaid.id]);

    expect((await get('/v2/invoices?statuses=REFUNDED')).status).toBe(400);
    expect((await get('/v2/invoices?limit=101')).body.error_code).toBe('API_VALIDATION_ERROR');
    expect((await get('/v2/invoices?last_invoice=nope')).status).toBe(400);
    expect((await fetch(`${sandbox.url}/v2/invoices`)).status).toBe(401);
  });

  it('lists refunds newest first with their status, has_more and after_id / before_id', async () => {
    const invoice = await paidInvoice(90000);
    const other = await paidInvoice(50000);
    const refunds = [];
    for (const [invoiceId, amount] of [
      [invoice.id!, 10000],
      [other.id!, 20000],
      [invoice.id!, 30000],
    ] as const) {
      refunds.push(
        await xendit.Refund.createRefund({ data: { invoiceId, amount, currency: 'IDR', reason: 'CANCELLATION' } }),
      );
    }
    await waitFor(() => receiver.at(REFUND_WEBHOOK).length === 3, 'the refund callbacks');
    const newestFirst = refunds.map((r) => r.id).reverse();

    const page1 = await xendit.Refund.getAllRefunds({ limit: 2 });
    expect(page1.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 2));
    expect(page1.hasMore).toBe(true);
    const page2 = await xendit.Refund.getAllRefunds({ limit: 2, afterId: page1.data[1].id });
    expect(page2.data.map((r) => [r.id, r.amount])).toEqual([[newestFirst[2], 10000]]);
    expect(page2.hasMore).toBe(false);
    const back = await xendit.Refund.getAllRefunds({ limit: 2, beforeId: newestFirst[2] });
    expect(back.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 2));

    // The SDK's model drops `status` and `invoice_id`; the wire has them.
    const raw = await get(`/refunds?invoice_id=${invoice.id}`);
    expect(raw.body).toEqual({
      data: [
        expect.objectContaining({ id: newestFirst[0], invoice_id: invoice.id, amount: 30000, status: 'SUCCEEDED' }),
        expect.objectContaining({ id: newestFirst[2], invoice_id: invoice.id, amount: 10000, status: 'SUCCEEDED' }),
      ],
      has_more: false,
    });
    expect((await get('/refunds?after_id=rfd-unknown')).status).toBe(400);
    expect((await get('/refunds?limit=0')).status).toBe(400);
  });

  it('lists the payouts of a reference id newest first, with a link to the next page', async () => {
    const made = [];
    for (const key of ['p1', 'p2', 'p3'])
      made.push(await xendit.Payout.createPayout(payoutRequest({ key, referenceId: 'ref-list' })));
    await xendit.Payout.createPayout(payoutRequest({ key: 'p4', referenceId: 'another' }));
    const newestFirst = made.map((p) => p.id).reverse();

    const page1 = await xendit.Payout.getPayouts({ referenceId: 'ref-list', limit: 2 });
    expect(page1.data!.map((p) => p.id)).toEqual(newestFirst.slice(0, 2));
    expect(page1.hasMore).toBe(true);
    expect(page1.links).toEqual({
      href: `/v2/payouts?reference_id=ref-list&limit=2&after_id=${newestFirst[1]}`,
      rel: 'next',
      method: 'GET',
    });
    const page2 = await xendit.Payout.getPayouts({ referenceId: 'ref-list', limit: 2, afterId: newestFirst[1] });
    expect(page2.data!.map((p) => [p.id, p.status, p.amount])).toEqual([[newestFirst[2], expect.any(String), 250000]]);
    expect(page2.hasMore).toBe(false);
    expect(page2.links).toBeUndefined();
    expect((await get('/v2/payouts')).body.error_code).toBe('API_VALIDATION_ERROR');
  });

  it('pays an invoice whose callback is lost: PAID at Xendit, nothing delivered', async () => {
    const invoice = await createInvoice({ amount: 70000 });
    expect((await post('/__sandbox/xendit/invoice-callbacks/lose', { count: 1 })).status).toBe(204);
    const paid = await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    expect(paid.body).toMatchObject({ invoice: { status: 'PAID' }, callback: { status: null } });
    expect((await xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! })).status).toBe('PAID');

    // Only the next one was lost.
    const next = await createInvoice();
    expect((await post(`/__sandbox/xendit/invoices/${next.id}/pay`)).body.callback.status).toBe(200);
    expect(receiver.at(INVOICE_WEBHOOK).map((c) => c.body.id)).toEqual([next.id]);
  });
});

describe('Xendit fault injection', () => {
  it('fails the next calls of the chosen endpoints only', async () => {
    expect((await post('/__sandbox/xendit/faults', { status: 503, count: 1, path: 'refunds' })).status).toBe(204);
    expect((await post('/__sandbox/xendit/faults', { status: 500, count: 2, path: 'invoices' })).status).toBe(204);

    for (let i = 0; i < 2; i += 1) {
      const error = await sdkError(createInvoice());
      expect(error.status).toBe(500);
      expect(error.errorCode).toBe('SERVER_ERROR');
    }
    const invoice = await paidInvoice();

    const refund = await sdkError(
      xendit.Refund.createRefund({ idempotencyKey: 'f1', data: { invoiceId: invoice.id, reason: 'OTHERS' } }),
    );
    expect(refund.status).toBe(503);
    await xendit.Refund.createRefund({ idempotencyKey: 'f1', data: { invoiceId: invoice.id, reason: 'OTHERS' } });
  });

  it('clears pending faults and refuses a nonsense fault', async () => {
    await post('/__sandbox/xendit/faults', { status: 500, count: 5 });
    expect((await fetch(`${sandbox.url}/__sandbox/xendit/faults`, { method: 'DELETE' })).status).toBe(204);
    await createInvoice();

    expect((await post('/__sandbox/xendit/faults', { status: 200 })).status).toBe(400);
    expect((await post('/__sandbox/xendit/faults', { status: 500, path: 'wallets' })).status).toBe(400);
    expect((await post('/__sandbox/xendit/faults', { status: 500, when: 'later' })).status).toBe(400);
  });
});

describe('WhatsApp Cloud API', () => {
  const messagesPath = `/v21.0/${PHONE_NUMBER_ID}/messages`;
  const bearer = { authorization: `Bearer ${WHATSAPP_TOKEN}` };

  function otpMessage(to: string, code: string) {
    return {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      template: {
        name: 'otp_login',
        language: { code: 'id' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: code }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
        ],
      },
    };
  }

  async function messagesTo(to: string) {
    const response = await fetch(`${sandbox.url}/__sandbox/whatsapp/messages?to=${encodeURIComponent(to)}`);
    return (await response.json()).messages as {
      id: string;
      to: string;
      text: string;
      sentAt: string;
      template: string;
    }[];
  }

  it('sends an authentication template and lists it, newest first, with the code readable', async () => {
    const first = await post(messagesPath, otpMessage('6281234567890', '111111'), bearer);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '6281234567890', wa_id: '6281234567890' }],
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
    });
    const second = await post(messagesPath, otpMessage('+6281234567890', '222222'), bearer);
    expect(second.status).toBe(200);
    await post(messagesPath, otpMessage('6281111111111', '333333'), bearer);

    const listed = await messagesTo('+6281234567890');
    expect(listed.map((m) => m.id)).toEqual([second.body.messages[0].id, first.body.messages[0].id]);
    expect(listed[0]).toMatchObject({
      to: '6281234567890',
      template: 'otp_login',
      text: '222222 is your verification code. For your security, do not share this code.',
    });
    expect(Date.parse(listed[0].sentAt)).not.toBeNaN();
    expect(await messagesTo('6281234567890')).toHaveLength(2);
  });

  it('accepts a plain text message', async () => {
    const sent = await post(
      messagesPath,
      { messaging_product: 'whatsapp', to: '6281200000000', type: 'text', text: { body: 'Halo!' } },
      bearer,
    );
    expect(sent.status).toBe(200);
    expect((await messagesTo('6281200000000'))[0].text).toBe('Halo!');
  });

  it('answers 401 with code 190 to a wrong or missing token', async () => {
    const wrongOrMissing: Record<string, string>[] = [{ authorization: 'Bearer not-the-token' }, {}];
    for (const headers of wrongOrMissing) {
      const response = await post(messagesPath, otpMessage('6281234567890', '123456'), headers);
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({
        type: 'OAuthException',
        code: 190,
        error_data: { details: expect.any(String) },
      });
      expect(response.body.error.fbtrace_id).toEqual(expect.any(String));
    }
    expect(await messagesTo('6281234567890')).toEqual([]);
  });

  it('answers 400 code 100 for another phone number id or invalid messages', async () => {
    const otherNumber = await post(`/v21.0/999/messages`, otpMessage('6281234567890', '123456'), bearer);
    expect(otherNumber.status).toBe(400);
    expect(otherNumber.body.error.code).toBe(100);

    const { messaging_product: _omitted, ...withoutProduct } = otpMessage('6281234567890', '123456');
    const invalid = [
      withoutProduct,
      otpMessage('not-a-number', '123456'),
      { ...otpMessage('6281234567890', '123456'), template: { language: { code: 'id' } } },
      { ...otpMessage('6281234567890', '123456'), type: 'sticker' },
      {
        ...otpMessage('6281234567890', '123456'),
        template: { name: 'otp_login', language: { code: 'id' }, components: [{ type: 'button', parameters: [] }] },
      },
      '{"messaging_product": "whats',
    ];
    for (const body of invalid) {
      const response = await post(messagesPath, body, bearer);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe(100);
    }
    expect(await messagesTo('6281234567890')).toEqual([]);
  });

  it('answers 131026 for a number that is not on WhatsApp', async () => {
    const response = await post(messagesPath, otpMessage('+628991234567', '123456'), bearer);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 131026, message: expect.stringContaining('Undeliverable') });
    expect(await messagesTo('628991234567')).toEqual([]);
  });

  it('fails the next sends with injected faults, then delivers', async () => {
    expect((await post('/__sandbox/whatsapp/faults', { status: 500, count: 2 })).status).toBe(204);
    for (let i = 0; i < 2; i += 1) {
      const failed = await post(messagesPath, otpMessage('6281234567890', '123456'), bearer);
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe(131000);
    }
    expect((await post(messagesPath, otpMessage('6281234567890', '123456'), bearer)).status).toBe(200);
    expect(await messagesTo('6281234567890')).toHaveLength(1);

    await post('/__sandbox/whatsapp/faults', { status: 429, count: 1 });
    const throttled = await post(messagesPath, otpMessage('6281234567890', '654321'), bearer);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe(130429);

    await post('/__sandbox/whatsapp/faults', { status: 500, count: 3 });
    expect((await fetch(`${sandbox.url}/__sandbox/whatsapp/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await post(messagesPath, otpMessage('6281234567890', '654321'), bearer)).status).toBe(200);
  });
});

describe('checkout page', () => {
  async function checkout(invoiceId: string) {
    const response = await fetch(`${sandbox.url}/checkout/${invoiceId}`);
    return { status: response.status, type: response.headers.get('content-type'), html: await response.text() };
  }

  it('shows a pending invoice with a Pay button that posts to the pay hook', async () => {
    const invoice = await createInvoice({ description: '<b>Kaos</b> & celana' });
    const page = await checkout(invoice.id!);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.html).toContain('Group Buying Marketplace');
    expect(page.html).toMatch(/Rp\s150\.000/);
    expect(page.html).toContain('&#60;b&#62;Kaos&#60;/b&#62; &#38; celana');
    expect(page.html).toContain(`action="../__sandbox/xendit/invoices/${invoice.id}/pay"`);
    expect(page.html).toContain('data-return-url="https://shop.example/orders/1?paid=1"');
    expect(new URL(`../__sandbox/xendit/invoices/${invoice.id}/pay`, invoice.invoiceUrl).pathname).toBe(
      `/__sandbox/xendit/invoices/${invoice.id}/pay`,
    );
  });

  it('shows paid and expired invoices without the button', async () => {
    const paid = await paidInvoice();
    const paidPage = await checkout(paid.id!);
    expect(paidPage.html).toContain('Paid. Thank you!');
    expect(paidPage.html).toContain('href="https://shop.example/orders/1?paid=1"');
    expect(paidPage.html).not.toContain('<form');

    const expired = await createInvoice();
    await xendit.Invoice.expireInvoice({ invoiceId: expired.id! });
    const expiredPage = await checkout(expired.id!);
    expect(expiredPage.html).toContain('has expired');
    expect(expiredPage.html).toContain('href="https://shop.example/orders/1?failed=1"');
    expect(expiredPage.html).not.toContain('<form');
  });

  it('answers 404 for an unknown invoice', async () => {
    const page = await checkout('unknown');
    expect(page.status).toBe(404);
    expect(page.html).toContain('Invoice not found');
  });
});

describe('sandbox housekeeping', () => {
  it('answers health and 404 JSON for unknown paths', async () => {
    expect(await (await fetch(`${sandbox.url}/health`)).json()).toEqual({ status: 'ok' });
    const unknown = await fetch(`${sandbox.url}/v3/nothing`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_code).toBe('NOT_FOUND');
  });

  it('stops retrying callbacks and drops pending payout outcomes on DELETE /__sandbox/state', async () => {
    const invoice = await createInvoice();
    receiver.answerNext(500);
    await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);
    const payout = await xendit.Payout.createPayout(payoutRequest());

    expect((await fetch(`${sandbox.url}/__sandbox/state`, { method: 'DELETE' })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.at(INVOICE_WEBHOOK)).toHaveLength(1);
    expect(receiver.at(PAYOUT_WEBHOOK)).toHaveLength(0);
    expect((await sdkError(xendit.Payout.getPayoutById({ id: payout.id }))).status).toBe(404);
  });

  it('forgets everything on DELETE /__sandbox/state', async () => {
    const invoice = await createInvoice();
    await post(
      `/v21.0/${PHONE_NUMBER_ID}/messages`,
      { messaging_product: 'whatsapp', to: '6281200000001', type: 'text', text: { body: 'x' } },
      {
        authorization: `Bearer ${WHATSAPP_TOKEN}`,
      },
    );
    await post('/__sandbox/whatsapp/faults', { status: 500, count: 1 });

    expect((await fetch(`${sandbox.url}/__sandbox/state`, { method: 'DELETE' })).status).toBe(204);

    expect((await sdkError(xendit.Invoice.getInvoiceById({ invoiceId: invoice.id! }))).status).toBe(404);
    const messages = await (await fetch(`${sandbox.url}/__sandbox/whatsapp/messages`)).json();
    expect(messages.messages).toEqual([]);
    const sent = await post(
      `/v21.0/${PHONE_NUMBER_ID}/messages`,
      { messaging_product: 'whatsapp', to: '6281200000001', type: 'text', text: { body: 'x' } },
      {
        authorization: `Bearer ${WHATSAPP_TOKEN}`,
      },
    );
    expect(sent.status).toBe(200);
  });
});
