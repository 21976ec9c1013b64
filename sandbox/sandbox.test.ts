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
  LOG_LEVEL: 'silent',
});

interface ReceivedCallback {
  path: string;
  token: string | undefined;
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
    expect((await post('/__sandbox/xendit/faults', { status: 500, path: 'payouts' })).status).toBe(400);
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

  it('stops retrying callbacks on DELETE /__sandbox/state', async () => {
    const invoice = await createInvoice();
    receiver.answerNext(500);
    await post(`/__sandbox/xendit/invoices/${invoice.id}/pay`);

    expect((await fetch(`${sandbox.url}/__sandbox/state`, { method: 'DELETE' })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.at(INVOICE_WEBHOOK)).toHaveLength(1);
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
