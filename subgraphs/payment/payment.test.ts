import { Client } from 'pg';
import {
  startTestStack,
  type TestStack,
  errorCode,
  statusHistoryOf,
  TEST_CALLBACK_TOKEN,
  TEST_INTERNAL_TOKEN,
} from '../../test/support/e2e';
import { identityHeaders } from '../../lib/internal-auth';
import { withDatabase } from '../../lib/database';
import { settled } from '../../test/support/eventually';
import { newId } from '../../lib/ids';
import { DEMO_PRODUCTS } from '../../lib/demo-data';
import { createAddress, CREATE_ORDER } from '../order/test-support';

/**
 * Payment and notification end to end: real processes, the Xendit sandbox, callbacks through the gateway;
 * order, product, address and warehouse for regular orders paid (or paid too late) through it.
 */
describe('payment subgraph', () => {
  let stack: TestStack;
  let db: Client;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['payment', 'notification', 'order', 'product', 'address', 'warehouse', 'wallet'],
      sandbox: true,
      // A refund callback is overdue after 2 s here (10 minutes by default).
      env: { REFUND_RECONCILE_MS: '250', REFUND_CALLBACK_GRACE_MS: '2000' },
    });
    db = new Client({
      connectionString: withDatabase(process.env.TEST_DATABASE_URL!, `${stack.env.DB_PREFIX}_payment`),
    });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });
  afterEach(async () => {
    const { status, body } = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, sum: 0, doubleSettled: [], unbalancedGroups: [] });
    expect(body.escrowBalance).toBe(body.heldEscrowTotal);
    // Every movement names a real account.
    expect(await sql(`select distinct account from transaction_ledger where account like '%unknown%'`)).toEqual([]);
  });

  const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
  /** The audit trail the status triggers wrote, oldest first, as [from, to] pairs. */
  const historyOf = (aggregate: 'payment' | 'refund', id: string) =>
    statusHistoryOf(db, `${aggregate}_status_history`, `${aggregate}_id`, id);
  const sandbox = async (method: string, path: string) => {
    const response = await fetch(`${stack.sandboxUrl}${path}`, { method });
    return { status: response.status, body: (await response.json()) as any };
  };
  const invoiceIdOf = (invoiceUrl: string) => invoiceUrl.split('/').pop()!;
  const postCallback = (
    kind: 'invoice' | 'refund',
    body: string,
    headers: Record<string, string> = { 'x-callback-token': TEST_CALLBACK_TOKEN },
  ) =>
    fetch(`${stack.gatewayUrl}/api/webhooks/xendit/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const ledgerOf = (paymentId: string) =>
    sql(
      'select group_id, kind, account, amount::int as amount from transaction_ledger where payment_id = $1 order by kind, amount',
      [paymentId],
    );
  const paymentRow = async (id: string) => (await sql('select * from payments where id = $1', [id]))[0];

  /** Waits for an effect as long as the callback and outbox paths may take here. */
  const poll = <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, intervalMs = 100) =>
    settled(read, done, timeoutMs, intervalMs);

  const notificationsOf = async (userId: string) => {
    const result = await stack.graphql(
      `{ myNotifications(first: 50) { totalCount edges { node { id type title body readAt } } } }`,
      {},
      { caller: { userId, role: 'BUYER' } },
    );
    expect(result.errors).toBeUndefined();
    return result.data.myNotifications.edges.map((e: { node: { type: string } }) => e.node) as {
      type: string;
      body: string;
    }[];
  };

  const createRegular = (overrides: Record<string, unknown> = {}) =>
    stack.internal('payment', 'POST', '/api/payments', {
      orderId: newId(),
      userId: newId(),
      factoryId: newId(),
      amount: 150000,
      description: 'Order of 3 mugs',
      ...overrides,
    });

  const createEscrow = (sessionId: string, overrides: Record<string, unknown> = {}) =>
    stack.internal('payment', 'POST', '/api/payments/escrow', {
      sessionId,
      participantId: newId(),
      userId: newId(),
      factoryId: newId(),
      amount: 90000,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      description: 'Group buy: 2 batik shirts',
      refundTo: 'ORIGINAL_METHOD',
      ...overrides,
    });

  it('creates the invoice through Xendit, marks it PAID with one balanced ledger group and notifies the buyer', async () => {
    const orderId = newId();
    const userId = newId();
    const factoryId = newId();
    const first = await createRegular({ orderId, userId, factoryId });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'PENDING', amount: 150000 });
    expect(first.body.invoiceUrl).toMatch(/\/checkout\/\w+$/);

    // Idempotent per order; a different amount under the same order is refused.
    const again = await createRegular({ orderId, userId, factoryId });
    expect(again.body).toEqual(first.body);
    expect((await createRegular({ orderId, userId, factoryId, amount: 1 })).status).toBe(409);

    const invoice = await sandbox('GET', `/__sandbox/xendit/invoices/${invoiceIdOf(first.body.invoiceUrl)}`);
    expect(invoice.body.invoice).toMatchObject({ external_id: first.body.id, amount: 150000, currency: 'IDR' });

    const paid = await stack.payInvoice(first.body.invoiceUrl);
    expect(paid.callback.status).toBe(200);
    const byOrder = await stack.internal('payment', 'GET', `/api/payments/by-order/${orderId}`);
    expect(byOrder.body).toMatchObject({ id: first.body.id, status: 'PAID', isInEscrow: false, escrowStatus: null });

    const ledger = await ledgerOf(first.body.id);
    expect(ledger).toHaveLength(2);
    expect(new Set(ledger.map((l) => l.group_id)).size).toBe(1);
    expect(ledger.map((l) => [l.kind, l.account, l.amount])).toEqual([
      [`PAYMENT_CAPTURED`, `factory_pending:${factoryId}`, -150000],
      ['PAYMENT_CAPTURED', 'gateway_clearing', 150000],
    ]);

    // A redelivered callback is accepted and changes nothing.
    const redelivered = await sandbox(
      'POST',
      `/__sandbox/xendit/invoices/${invoiceIdOf(first.body.invoiceUrl)}/callback`,
    );
    expect(redelivered.body.callback.status).toBe(200);
    expect(await ledgerOf(first.body.id)).toHaveLength(2);
    expect(await historyOf('payment', first.body.id)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'PAID'],
    ]);

    const notifications = await poll(
      () => notificationsOf(userId),
      (list) => list.length > 0,
    );
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ type: 'PAYMENT_SUCCEEDED', readAt: null });
    expect(notifications[0].body).toContain('Rp150.000');
    // The order is told through the outbox (no such order here: order refuses it, payment is unaffected).
    expect(
      await sql(`select body->>'status' as status from outbox where dedupe_key like $1`, [
        `order-status:${first.body.id}:%`,
      ]),
    ).toEqual([{ status: 'PAID' }]);
  });

  it('refuses bad input without creating anything', async () => {
    expect((await createRegular({ amount: -5 })).status).toBe(400);
    expect((await createRegular({ amount: 10.5 })).status).toBe(400);
    // A regular payment must say which factory the money is owed to.
    const orderId = newId();
    const factoryless = await createRegular({ orderId, factoryId: undefined });
    expect(factoryless).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT' } } });
    expect(factoryless.body.error.message).toContain('factoryId');
    expect((await createRegular({ orderId, factoryId: null })).status).toBe(400);
    expect(await sql('select id from payments where order_id = $1', [orderId])).toEqual([]);
    const participantId = newId();
    const late = await createEscrow(newId(), { participantId, expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(late.status).toBe(400);
    expect(await sql('select id from payments where participant_id = $1', [participantId])).toEqual([]);
    expect((await stack.internal('payment', 'GET', `/api/payments/by-order/${newId()}`)).status).toBe(404);
  });

  it('applies 100 concurrent deliveries of one PAID callback exactly once', async () => {
    const created = await createRegular();
    const invoiceId = invoiceIdOf(created.body.invoiceUrl);
    const body = JSON.stringify({
      id: invoiceId,
      external_id: created.body.id,
      status: 'PAID',
      amount: 150000,
      paid_amount: 150000,
      currency: 'IDR',
      payment_method: 'BANK_TRANSFER',
    });
    const statuses = await Promise.all(
      Array.from({ length: 100 }, () => postCallback('invoice', body).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array(100).fill(200));
    expect((await paymentRow(created.body.id)).status).toBe('PAID');
    const ledger = await ledgerOf(created.body.id);
    expect(ledger).toHaveLength(2);
    expect(new Set(ledger.map((l) => l.group_id)).size).toBe(1);
    expect(await sql('select outcome from webhook_events where external_id = $1', [invoiceId])).toEqual([
      { outcome: 'APPLIED' },
    ]);
    expect(
      await sql(`select count(*)::int as n from outbox where dedupe_key like $1`, [
        `notify:payment:${created.body.id}:%`,
      ]),
    ).toEqual([{ n: 1 }]);
  });

  it('answers 401 to a wrong or missing callback token and 400 to a malformed body, changing nothing', async () => {
    const created = await createRegular();
    const invoiceId = invoiceIdOf(created.body.invoiceUrl);
    const body = JSON.stringify({
      id: invoiceId,
      external_id: created.body.id,
      status: 'PAID',
      amount: 150000,
      paid_amount: 150000,
    });
    const wrong = await postCallback('invoice', body, { 'x-callback-token': 'not-the-token' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe('UNAUTHENTICATED');
    expect((await postCallback('invoice', body, {})).status).toBe(401);
    expect((await postCallback('refund', '{"event":"refund.succeeded"}', { 'x-callback-token': '' })).status).toBe(401);
    expect((await postCallback('invoice', '{"id": "abc", "status": ')).status).toBe(400);
    expect((await postCallback('invoice', JSON.stringify({ status: 'PAID' }))).status).toBe(400);
    expect(await sql('select outcome from webhook_events where external_id = $1', [invoiceId])).toEqual([]);
    expect((await paymentRow(created.body.id)).status).toBe('PENDING');
    expect(await ledgerOf(created.body.id)).toEqual([]);

    // An invoice we never issued: 200 (Xendit must stop retrying), stored as unmatched each time, holding no key.
    const stranger = JSON.stringify({
      id: 'inv-unknown-1',
      external_id: 'elsewhere',
      status: 'PAID',
      amount: 5,
      currency: 'IDR',
    });
    expect((await postCallback('invoice', stranger)).status).toBe(200);
    expect((await postCallback('invoice', stranger)).status).toBe(200);
    expect(await sql('select outcome from webhook_events where external_id = $1', ['inv-unknown-1'])).toEqual([
      { outcome: 'UNMATCHED' },
      { outcome: 'UNMATCHED' },
    ]);
  });

  it('refuses PAID callbacks with another amount or currency (409, key left free), then applies the genuine delivery exactly once', async () => {
    const userId = newId();
    const created = (await createRegular({ userId })).body;
    const invoiceId = invoiceIdOf(created.invoiceUrl);
    const callback = (fields: Record<string, unknown>) =>
      JSON.stringify({
        id: invoiceId,
        external_id: created.id,
        status: 'PAID',
        amount: 150000,
        paid_amount: 150000,
        currency: 'IDR',
        ...fields,
      });
    const refusals = [
      { paid_amount: 1000 },
      { amount: 150001, paid_amount: undefined },
      { currency: 'USD' },
      { currency: undefined },
    ];
    for (const fields of refusals) {
      const refused = await postCallback('invoice', callback(fields));
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as any).error).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringMatching(/amount|currency/),
      });
    }
    expect(await sql('select outcome, payment_id from webhook_events where external_id = $1', [invoiceId])).toEqual(
      refusals.map(() => ({ outcome: 'REJECTED', payment_id: created.id })),
    );
    expect((await paymentRow(created.id)).status).toBe('PENDING');
    expect(await ledgerOf(created.id)).toEqual([]);

    // The genuine callback still applies, once, however many deliveries race for the key.
    const genuine = await Promise.all(
      Array.from({ length: 10 }, () => postCallback('invoice', callback({})).then((r) => r.status)),
    );
    expect(genuine).toEqual(Array(10).fill(200));
    expect((await paymentRow(created.id)).status).toBe('PAID');
    expect(await ledgerOf(created.id)).toHaveLength(2);
    expect(
      await sql(`select count(*)::int as n from webhook_events where external_id = $1 and outcome = 'APPLIED'`, [
        invoiceId,
      ]),
    ).toEqual([{ n: 1 }]);
    // Once applied, the key is taken: any later delivery, even a garbled one, is a duplicate that changes nothing.
    expect((await postCallback('invoice', callback({ paid_amount: 1 }))).status).toBe(200);
    expect(await ledgerOf(created.id)).toHaveLength(2);
    const paid = await poll(
      () => notificationsOf(userId),
      (list) => list.length > 0,
    );
    expect(paid.map((n) => n.type)).toEqual(['PAYMENT_SUCCEEDED']);
  });

  it('holds escrow until release, and releases a session once however often and concurrently it is called', async () => {
    const sessionId = newId();
    const expiresAt = new Date(Date.now() + 600_000);
    const payments = [];
    for (let i = 0; i < 3; i += 1)
      payments.push((await createEscrow(sessionId, { expiresAt: expiresAt.toISOString(), amount: 90000 + i })).body);
    const invoice = await sandbox('GET', `/__sandbox/xendit/invoices/${invoiceIdOf(payments[0].invoiceUrl)}`);
    expect(Date.parse(invoice.body.invoice.expiry_date)).toBeLessThanOrEqual(expiresAt.getTime());
    for (const payment of payments) expect((await stack.payInvoice(payment.invoiceUrl)).callback.status).toBe(200);

    const before = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(before.body.heldEscrowTotal).toBeGreaterThanOrEqual(90000 + 90001 + 90002);
    const calls = await Promise.all(
      Array.from({ length: 4 }, () => stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId })),
    );
    expect(calls.map((c) => [c.status, c.body.released])).toEqual(Array(4).fill([200, 3]));
    expect((await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId })).body).toEqual({
      released: 3,
    });

    for (const payment of payments) {
      const ledger = await ledgerOf(payment.id);
      // Released less the 3% commission, which is the platform's revenue.
      expect(
        ledger.filter((l) => l.kind === 'ESCROW_RELEASED').map((l) => [l.account.split(':')[0], l.amount]),
      ).toEqual([
        ['factory_available', -(payment.amount - 2700)],
        ['platform_revenue', -2700],
        ['escrow', payment.amount],
      ]);
      expect(ledger.filter((l) => l.kind === 'ESCROW_HELD')).toHaveLength(2);
      expect((await paymentRow(payment.id)).escrow_status).toBe('RELEASED');
    }
    // Released money can no longer be refunded.
    const refund = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'CANCELLATION',
    });
    expect(refund.body).toEqual({ refunds: [] });
    expect(
      (await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId: 'nope' })).status,
    ).toBe(400);
  });

  it('refunds a session once per payment, concurrently called, through Xendit or to the wallet', async () => {
    const sessionId = newId();
    const viaXendit = [(await createEscrow(sessionId)).body, (await createEscrow(sessionId)).body];
    const walletUser = newId();
    const viaWallet = (await createEscrow(sessionId, { refundTo: 'WALLET', userId: walletUser })).body;
    const unpaid = (await createEscrow(sessionId)).body;
    for (const payment of [...viaXendit, viaWallet]) await stack.payInvoice(payment.invoiceUrl);

    const calls = await Promise.all(
      Array.from({ length: 3 }, () =>
        stack.internal('payment', 'POST', '/api/payments/refund-session', { sessionId, reason: 'MOQ not reached' }),
      ),
    );
    for (const call of calls) {
      expect(call.status).toBe(200);
      expect(call.body.refunds).toHaveLength(3);
    }
    const walletRefund = calls[0].body.refunds.find((r: { paymentId: string }) => r.paymentId === viaWallet.id);
    expect(walletRefund).toMatchObject({ destination: 'WALLET', amount: 90000 });

    const refunds = await poll(
      () => sql('select payment_id, status, destination from refunds where session_id = $1', [sessionId]),
      (rows) => rows.every((r) => r.status === 'SUCCEEDED'),
    );
    expect(refunds).toHaveLength(3);
    for (const payment of [...viaXendit, viaWallet]) {
      expect(await paymentRow(payment.id)).toMatchObject({ status: 'REFUNDED', escrow_status: 'REFUNDED' });
    }
    for (const payment of viaXendit) {
      const atXendit = await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceIdOf(payment.invoiceUrl)}`);
      expect(atXendit.body.refunds).toHaveLength(1);
      expect(atXendit.body.refunds[0].refund).toMatchObject({
        amount: 90000,
        status: 'SUCCEEDED',
        reason: 'CANCELLATION',
      });
      expect((await ledgerOf(payment.id)).map((l) => l.kind)).toEqual(
        expect.arrayContaining(['ESCROW_HELD', 'REFUND_RESERVED', 'REFUND_SETTLED']),
      );
    }
    const credit = await sql(`select body from outbox where service = 'wallet'`);
    expect(credit.map((r) => r.body)).toContainEqual({
      userId: walletUser,
      amount: 90000,
      reference: walletRefund.id,
      description: expect.any(String),
    });
    expect((await ledgerOf(viaWallet.id)).map((l) => l.account)).toContain(`wallet:${walletUser}`);

    // Called again later: same refunds, nothing new at Xendit.
    const rerun = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'MOQ not reached',
    });
    expect(rerun.body.refunds.map((r: { id: string }) => r.id).sort()).toEqual(
      calls[0].body.refunds.map((r: { id: string }) => r.id).sort(),
    );
    expect((await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId })).body).toEqual({
      released: 0,
    });

    const notifications = await poll(
      () => notificationsOf(walletUser),
      (list) => list.some((n) => n.type === 'REFUND_COMPLETED'),
    );
    expect(notifications.map((n) => n.type).sort()).toEqual(['PAYMENT_SUCCEEDED', 'REFUND_COMPLETED']);

    // The unpaid participant's invoice is expired at Xendit and here, once.
    expect((await stack.internal('payment', 'POST', '/api/payments/expire-session', { sessionId })).body).toEqual({
      expired: 1,
    });
    expect((await stack.internal('payment', 'POST', '/api/payments/expire-session', { sessionId })).body).toEqual({
      expired: 1,
    });
    expect((await paymentRow(unpaid.id)).status).toBe('EXPIRED');
    expect(await historyOf('payment', unpaid.id)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'EXPIRED'],
    ]);
    for (const refund of calls[0].body.refunds as { id: string; paymentId: string; destination: string }[]) {
      // A Xendit refund completes on its callback, a wallet refund once the wallet took the credit.
      expect(await historyOf('refund', refund.id)).toEqual([
        [null, 'PENDING'],
        ['PENDING', 'SUCCEEDED'],
      ]);
      expect((await historyOf('payment', refund.paymentId)).at(-1)).toEqual(['PAID', 'REFUNDED']);
    }
    expect(
      (await sandbox('GET', `/__sandbox/xendit/invoices/${invoiceIdOf(unpaid.invoiceUrl)}`)).body.invoice.status,
    ).toBe('EXPIRED');
  });

  it('settles a refund whose callback never came by asking Xendit, once, and then ignores the late callback', async () => {
    const sessionId = newId();
    const userId = newId();
    const payment = (await createEscrow(sessionId, { userId })).body;
    await stack.payInvoice(payment.invoiceUrl);
    const lose = await fetch(`${stack.sandboxUrl}/__sandbox/xendit/refund-callbacks/lose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1 }),
    });
    expect(lose.status).toBe(204);

    const call = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'MOQ not reached',
    });
    const [refund] = call.body.refunds;
    expect(refund).toMatchObject({ status: 'PENDING', destination: 'ORIGINAL_METHOD' });
    const atXendit = (await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceIdOf(payment.invoiceUrl)}`))
      .body.refunds;
    expect(
      atXendit.map((r: { refund: { status: string }; callback?: unknown }) => [r.refund.status, r.callback]),
    ).toEqual([['SUCCEEDED', undefined]]);
    const refundRow = async () =>
      (await sql('select status, xendit_refund_id from refunds where id = $1', [refund.id]))[0];
    expect((await refundRow()).status).toBe('PENDING');

    // Once overdue, payment asks Xendit and applies the answer as the callback would have.
    expect((await poll(refundRow, (row) => row.status === 'SUCCEEDED')).status).toBe('SUCCEEDED');
    expect((await paymentRow(payment.id)).status).toBe('REFUNDED');
    const settledLegs = async () => (await ledgerOf(payment.id)).filter((leg) => leg.kind === 'REFUND_SETTLED');
    expect(await settledLegs()).toHaveLength(2);
    const completed = await poll(
      () => notificationsOf(userId),
      (list) => list.some((n) => n.type === 'REFUND_COMPLETED'),
    );
    expect(completed.filter((n) => n.type === 'REFUND_COMPLETED')).toHaveLength(1);

    const late = await postCallback(
      'refund',
      JSON.stringify({
        event: 'refund.succeeded',
        data: { id: (await refundRow()).xendit_refund_id, status: 'SUCCEEDED', reference_id: refund.id },
      }),
    );
    expect(late.status).toBe(200);
    expect(await settledLegs()).toHaveLength(2);
    expect(await historyOf('refund', refund.id)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'SUCCEEDED'],
    ]);
    expect((await notificationsOf(userId)).filter((n) => n.type === 'REFUND_COMPLETED')).toHaveLength(1);
  });

  it('serves payments to their buyer and admins only, and extends Order with its payment', async () => {
    const buyer = newId();
    const orderId = newId();
    const created = (await createRegular({ userId: buyer, orderId })).body;
    const other = await createRegular();
    const asBuyer = { caller: { userId: buyer, role: 'BUYER' as const } };

    const mine = await stack.graphql(
      `{ myPayments(first: 10) { totalCount edges { node { id status amount currency isInEscrow invoiceUrl refunds { id } } } } }`,
      {},
      asBuyer,
    );
    expect(mine.errors).toBeUndefined();
    expect(mine.data.myPayments.totalCount).toBe(1);
    expect(mine.data.myPayments.edges[0].node).toMatchObject({
      id: created.id,
      status: 'PENDING',
      amount: 150000,
      currency: 'IDR',
      isInEscrow: false,
      refunds: [],
    });

    const query = `query($id: ID!) { payment(id: $id) { id status } }`;
    expect(errorCode(await stack.graphql(query, { id: other.body.id }, asBuyer))).toBe('FORBIDDEN');
    expect(errorCode(await stack.graphql(query, { id: created.id }))).toBe('UNAUTHENTICATED');
    const asAdmin = await stack.graphql(query, { id: created.id }, { caller: { userId: newId(), role: 'ADMIN' } });
    expect(asAdmin.data.payment).toEqual({ id: created.id, status: 'PENDING' });
    expect((await stack.graphql(query, { id: newId() }, asBuyer)).data.payment).toBeNull();

    // Order.payment as the gateway asks for it, of payment alone.
    const entities = async (userId: string) => {
      const response = await fetch(`${stack.serviceUrl('payment')}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-internal-token': TEST_INTERNAL_TOKEN,
          ...identityHeaders({ userId, role: 'BUYER' }),
        },
        body: JSON.stringify({
          query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id payment { id status } } } }`,
          variables: {
            r: [
              { __typename: 'Order', id: orderId },
              { __typename: 'Order', id: newId() },
            ],
          },
        }),
      });
      return ((await response.json()) as any).data._entities;
    };
    expect(await entities(buyer)).toEqual([
      { id: orderId, payment: { id: created.id, status: 'PENDING' } },
      expect.objectContaining({ payment: null }),
    ]);
    expect((await entities(newId()))[0].payment).toBeNull();
  });

  const [shirt] = DEMO_PRODUCTS;
  const buyer = () => ({ userId: newId(), role: 'BUYER' as const });
  /** A regular order placed through order (stock reserved, payment created by order), as a buyer would. */
  const placeOrder = async (caller: { userId: string; role: 'BUYER' }) => {
    const addressId = await createAddress(stack, caller);
    const result = await stack.graphql(
      CREATE_ORDER,
      { input: { addressId, items: [{ variantId: shirt.variants[0].id, quantity: 2 }] } },
      { caller },
    );
    expect(result.errors).toBeUndefined();
    const { order, paymentUrl } = result.data.createOrder as {
      order: { id: string; total: number };
      paymentUrl: string;
    };
    const payment = (await stack.internal('payment', 'GET', `/api/payments/by-order/${order.id}`)).body as {
      id: string;
    };
    return { order, paymentUrl, paymentId: payment.id };
  };
  const orderStatus = async (orderId: string) =>
    (await stack.internal('order', 'GET', `/api/orders/${orderId}`)).body.status as string;
  const refundsOf = (paymentId: string) =>
    sql('select id, status, destination, reason, amount::int as amount from refunds where payment_id = $1', [
      paymentId,
    ]);

  it("credits a regular order's payment to the factory its items come from", async () => {
    const { order, paymentUrl, paymentId } = await placeOrder(buyer());
    expect((await paymentRow(paymentId)).factory_id).toBe(shirt.factoryId);
    expect((await stack.payInvoice(paymentUrl)).callback.status).toBe(200);
    expect(
      await poll(
        () => orderStatus(order.id),
        (status) => status === 'PAID',
      ),
    ).toBe('PAID');
    expect((await ledgerOf(paymentId)).map((l) => [l.kind, l.account, l.amount])).toEqual([
      ['PAYMENT_CAPTURED', `factory_pending:${shirt.factoryId}`, -order.total],
      ['PAYMENT_CAPTURED', 'gateway_clearing', order.total],
    ]);
  });

  it('refunds money paid after the invoice expired, once, tells the buyer, and leaves the cancelled order cancelled', async () => {
    const caller = buyer();
    const { order, paymentUrl, paymentId } = await placeOrder(caller);
    const invoiceId = invoiceIdOf(paymentUrl);
    const callback = (status: string) =>
      JSON.stringify({
        id: invoiceId,
        external_id: paymentId,
        status,
        amount: order.total,
        paid_amount: order.total,
        currency: 'IDR',
      });
    // Xendit's EXPIRED callback overtakes the buyer's payment: the order is cancelled and its stock released.
    expect((await postCallback('invoice', callback('EXPIRED'))).status).toBe(200);
    expect(
      await poll(
        () => orderStatus(order.id),
        (status) => status === 'CANCELLED',
      ),
    ).toBe('CANCELLED');

    // Then the money arrives: captured, refunded to the original method through Xendit, the buyer told.
    expect((await stack.payInvoice(paymentUrl)).callback.status).toBe(200);
    const [refund] = await poll(
      () => refundsOf(paymentId),
      (rows) => rows[0]?.status === 'SUCCEEDED',
    );
    expect(refund).toMatchObject({
      status: 'SUCCEEDED',
      destination: 'ORIGINAL_METHOD',
      reason: 'LATE_PAYMENT',
      amount: order.total,
    });
    const atXendit = (await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceId}`)).body.refunds;
    expect(
      atXendit.map((r: { refund: { amount: number; status: string } }) => [r.refund.amount, r.refund.status]),
    ).toEqual([[order.total, 'SUCCEEDED']]);
    expect(await historyOf('payment', paymentId)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'EXPIRED'],
      ['EXPIRED', 'LATE_PAID'],
      ['LATE_PAID', 'REFUNDED'],
    ]);
    const ledger = (await ledgerOf(paymentId)).map((l) => [l.kind, l.account, l.amount]);
    expect(ledger).toEqual([
      ['LATE_PAYMENT_CAPTURED', 'buyer_refunds', -order.total],
      ['LATE_PAYMENT_CAPTURED', 'gateway_clearing', order.total],
      ['REFUND_SETTLED', 'gateway_clearing', -order.total],
      ['REFUND_SETTLED', 'buyer_refunds', order.total],
    ]);
    const notifications = await poll(
      () => notificationsOf(caller.userId),
      (list) => list.some((n) => n.type === 'REFUND_COMPLETED'),
    );
    expect(notifications.map((n) => n.type).sort()).toEqual(['PAYMENT_FAILED', 'PAYMENT_FAILED', 'REFUND_COMPLETED']);
    expect(notifications.some((n) => n.body.includes('arrived after its invoice had expired'))).toBe(true);

    // Duplicate late callbacks, redelivered and concurrent, change nothing.
    expect((await sandbox('POST', `/__sandbox/xendit/invoices/${invoiceId}/callback`)).body.callback.status).toBe(200);
    const twins = await Promise.all(
      Array.from({ length: 5 }, () => postCallback('invoice', callback('PAID')).then((r) => r.status)),
    );
    expect(twins).toEqual(Array(5).fill(200));
    expect(await refundsOf(paymentId)).toHaveLength(1);
    expect((await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceId}`)).body.refunds).toHaveLength(1);
    expect(await ledgerOf(paymentId)).toHaveLength(4);
    expect(
      await sql(`select count(*)::int as n from outbox where dedupe_key like $1`, [`notify:payment:${paymentId}:%`]),
    ).toEqual([{ n: 3 }]);
    // Nothing was revived: the order only ever heard EXPIRED, and stays CANCELLED.
    expect(
      await sql(`select body->>'status' as status from outbox where dedupe_key like $1`, [
        `order-status:${paymentId}:%`,
      ]),
    ).toEqual([{ status: 'EXPIRED' }]);
    expect(await orderStatus(order.id)).toBe('CANCELLED');
  });

  it('expires an abandoned payment the buyer paid in that very moment, and refunds the money as a late payment', async () => {
    const orderId = newId();
    const created = (await createRegular({ orderId })).body;
    const slow = await fetch(`${stack.sandboxUrl}/__sandbox/xendit/slowdowns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delayMs: 1500, path: 'invoices' }),
    });
    expect(slow.status).toBe(204);
    const abandoned = stack.internal('payment', 'POST', '/api/payments/abandon', { orderId });
    // Abandon has expired the payment and is asking Xendit, slowly, to expire the invoice; the buyer pays meanwhile.
    await poll(
      () => paymentRow(created.id),
      (row) => row.status === 'EXPIRED',
      5000,
      10,
    );
    const paid = stack.payInvoice(created.invoiceUrl);
    expect(await abandoned).toMatchObject({ status: 200, body: { status: 'EXPIRED' } });
    expect((await paid).callback.status).toBe(200);
    const [refund] = await poll(
      () => refundsOf(created.id),
      (rows) => rows[0]?.status === 'SUCCEEDED',
    );
    expect(refund).toMatchObject({ reason: 'LATE_PAYMENT', amount: 150000 });
    expect((await historyOf('payment', created.id)).map(([, to]) => to)).toEqual([
      'PENDING',
      'EXPIRED',
      'LATE_PAID',
      'REFUNDED',
    ]);
  });

  it('refunds, once, a payment paid just before its owner gave up on it (the PAID callback beat the abandon)', async () => {
    const orderId = newId();
    const created = (await createRegular({ orderId })).body;
    expect((await stack.payInvoice(created.invoiceUrl)).callback.status).toBe(200);
    expect((await paymentRow(created.id)).status).toBe('PAID');
    // The order was cancelled (its hold ran out) before the PAID notice reached it: nothing will use this money.
    const abandons = await Promise.all(
      [0, 1].map(() => stack.internal('payment', 'POST', '/api/payments/abandon', { orderId })),
    );
    expect(abandons.map((a) => a.status)).toEqual([200, 200]);
    const [refund] = await poll(
      () => refundsOf(created.id),
      (rows) => rows[0]?.status === 'SUCCEEDED',
    );
    expect(refund).toMatchObject({ destination: 'ORIGINAL_METHOD', amount: 150000 });
    expect(await refundsOf(created.id)).toHaveLength(1);
    const atXendit = await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceIdOf(created.invoiceUrl)}`);
    expect(atXendit.body.refunds).toHaveLength(1);
    expect((await historyOf('payment', created.id)).map(([, to]) => to)).toEqual(['PENDING', 'PAID', 'REFUNDED']);
    // A later abandon finds the refund and makes no second one.
    expect(await stack.internal('payment', 'POST', '/api/payments/abandon', { orderId })).toMatchObject({
      status: 200,
    });
    expect(await refundsOf(created.id)).toHaveLength(1);
  });

  it('keeps a paid payment PAID while notification is down, and delivers the notification once it is back', async () => {
    const userId = newId();
    const created = (await createRegular({ userId })).body;
    await stack.stack.kill('notification');
    try {
      expect((await stack.payInvoice(created.invoiceUrl)).callback.status).toBe(200);
      expect((await paymentRow(created.id)).status).toBe('PAID');
      const waiting = await poll(
        () =>
          sql(`select attempts, delivered_at from outbox where dedupe_key = $1`, [
            `notify:payment:${created.id}:PAYMENT_SUCCEEDED`,
          ]),
        (rows) => rows[0]?.attempts > 0,
      );
      expect(waiting[0]).toMatchObject({ delivered_at: null });
    } finally {
      await stack.stack.startOne('notification');
    }
    const notifications = await poll(
      () => notificationsOf(userId),
      (list) => list.length > 0,
      40_000,
    );
    expect(notifications.map((n) => n.type)).toEqual(['PAYMENT_SUCCEEDED']);
  });

  it('refunds every participant exactly once when payment crashes in the middle of refund-session', async () => {
    const sessionId = newId();
    const payments: { id: string; invoiceUrl: string }[] = [];
    for (let i = 0; i < 25; i += 1) payments.push((await createEscrow(sessionId)).body);
    await Promise.all(payments.map((p) => stack.payInvoice(p.invoiceUrl)));

    const interrupted = stack
      .internal('payment', 'POST', '/api/payments/refund-session', { sessionId, reason: 'CANCELLATION' })
      .catch(() => null);
    // Crash as soon as Xendit accepted the first refund: step 1 committed, step 2 under way.
    const sent = () =>
      sql('select count(*)::int as n from refunds where session_id = $1 and xendit_refund_id is not null', [sessionId]);
    await poll(sent, (rows) => rows[0].n > 0, 10_000, 5);
    await stack.stack.kill('payment');
    await interrupted;
    expect(await sql('select count(*)::int as n from refunds where session_id = $1', [sessionId])).toEqual([{ n: 25 }]);
    await stack.stack.startOne('payment');

    const rerun = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'CANCELLATION',
    });
    expect(rerun.status).toBe(200);
    expect(rerun.body.refunds).toHaveLength(25);
    const refunds = await poll(
      () => sql('select payment_id, status from refunds where session_id = $1', [sessionId]),
      (rows) => rows.length === 25 && rows.every((r) => r.status === 'SUCCEEDED'),
      40_000,
    );
    expect(refunds.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(25);
    expect(new Set(refunds.map((r) => r.payment_id)).size).toBe(25);
    for (const payment of payments) {
      const atXendit = await sandbox('GET', `/__sandbox/xendit/refunds?invoiceId=${invoiceIdOf(payment.invoiceUrl)}`);
      expect(atXendit.body.refunds).toHaveLength(1);
      expect((await paymentRow(payment.id)).status).toBe('REFUNDED');
    }
  });
});
