import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { startTestStack, type TestStack, statusHistoryOf } from '../../test/support/e2e';
import { withDatabase } from '../../lib/database';
import { eventually } from '../../test/support/eventually';
import { newId } from '../../lib/ids';

/**
 * Refunds to the wallet, end to end with payment, wallet and notification in their own processes: a payment
 * is REFUNDED only once the wallet has taken the credit, and a credit the wallet refuses is a dead letter
 * an operator sees and can retry, with the payment left PAID and the money in buyer_refunds.
 */
describe('refunds to the wallet', () => {
  let stack: TestStack;
  let db: Client;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['payment', 'notification', 'wallet'], sandbox: true });
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
    const { body } = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(body).toMatchObject({ ok: true, sum: 0, doubleSettled: [], unbalancedGroups: [] });
  });

  const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
  const paymentRow = async (id: string) =>
    (await sql('select status, escrow_status from payments where id = $1', [id]))[0];
  const refundOf = async (paymentId: string) =>
    (await sql('select id, status, destination from refunds where payment_id = $1', [paymentId]))[0];
  const ledgerKinds = async (paymentId: string) =>
    (
      await sql(
        'select kind, account, amount::int as amount from transaction_ledger where payment_id = $1 order by kind, amount',
        [paymentId],
      )
    ).map((leg) => [leg.kind, leg.account, leg.amount]);
  const walletOf = async (userId: string) => (await stack.internal('wallet', 'GET', `/api/wallets/${userId}`)).body;
  const notificationTypes = async (userId: string) => {
    const result = await stack.graphql(
      `{ myNotifications(first: 20) { edges { node { type } } } }`,
      {},
      { caller: { userId, role: 'BUYER' } },
    );
    return result.data.myNotifications.edges.map((edge: { node: { type: string } }) => edge.node.type).sort();
  };

  /** A paid escrow payment of a new buyer who chose refunds to the wallet. */
  async function paidWalletPayment(): Promise<{ sessionId: string; userId: string; paymentId: string }> {
    const sessionId = newId();
    const userId = newId();
    const created = await stack.internal('payment', 'POST', '/api/payments/escrow', {
      sessionId,
      participantId: newId(),
      userId,
      factoryId: newId(),
      amount: 90000,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      description: 'Group buy: 2 batik shirts',
      refundTo: 'WALLET',
    });
    expect(created.status).toBe(200);
    await stack.payInvoice(created.body.invoiceUrl);
    return { sessionId, userId, paymentId: created.body.id };
  }

  const refundSession = async (sessionId: string) => {
    const response = await stack.internal('payment', 'POST', '/api/payments/refund-session', {
      sessionId,
      reason: 'MOQ not reached',
    });
    expect(response.status).toBe(200);
    return response.body;
  };

  it('keeps the payment PAID while the wallet is down, and REFUNDED with its ledger pair once the credit is taken', async () => {
    await stack.stack.kill('wallet');
    const { sessionId, userId, paymentId } = await paidWalletPayment();
    const answer = await refundSession(sessionId);
    expect(answer.refunds).toEqual([
      expect.objectContaining({ paymentId, status: 'PENDING', destination: 'WALLET', amount: 90000 }),
    ]);

    // The credit is retried while the wallet is down; nothing says refunded meanwhile.
    await eventually(
      'credit attempts',
      async () => (await sql(`select attempts from outbox where service = 'wallet'`))[0]?.attempts >= 2,
    );
    expect(await paymentRow(paymentId)).toEqual({ status: 'PAID', escrow_status: 'REFUNDED' });
    expect(await ledgerKinds(paymentId)).toEqual([
      ['ESCROW_HELD', 'escrow', -90000],
      ['ESCROW_HELD', 'gateway_clearing', 90000],
      ['REFUND_RESERVED', 'buyer_refunds', -90000],
      ['REFUND_RESERVED', 'escrow', 90000],
    ]);
    expect(await sql(`select dead_at from outbox where service = 'wallet'`)).toEqual([{ dead_at: null }]);

    await stack.stack.startOne('wallet');
    await eventually('payment REFUNDED', async () => (await paymentRow(paymentId)).status === 'REFUNDED');
    const refund = await refundOf(paymentId);
    expect(refund.status).toBe('SUCCEEDED');
    expect(await walletOf(userId)).toEqual({ userId, balance: 90000, transactions: 1 });
    expect((await ledgerKinds(paymentId)).filter(([kind]) => kind === 'WALLET_CREDITED')).toEqual([
      ['WALLET_CREDITED', `wallet:${userId}`, -90000],
      ['WALLET_CREDITED', 'buyer_refunds', 90000],
    ]);
    expect(await statusHistoryOf(db, 'refund_status_history', 'refund_id', refund.id)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'SUCCEEDED'],
    ]);
    await eventually('buyer told', async () => (await notificationTypes(userId)).includes('REFUND_COMPLETED'));
    // Called again (the session's settlement retried): nothing moves twice.
    await refundSession(sessionId);
    expect((await walletOf(userId)).balance).toBe(90000);
  });

  it('leaves a refused credit as a dead letter, the payment PAID and the money in buyer_refunds; operators list and retry it', async () => {
    // Payment cannot reach the wallet for a moment, so the refusal below is in place before the credit arrives.
    await stack.stack.restart('payment', { WALLET_SERVICE_URL: 'http://127.0.0.1:9' });
    const { sessionId, userId, paymentId } = await paidWalletPayment();
    await refundSession(sessionId);
    const refund = await refundOf(paymentId);
    // The wallet refuses the credit for good: its reference was already used for a different movement.
    const earlier = await stack.internal('wallet', 'POST', '/api/wallets/credit', {
      userId,
      amount: 1,
      reference: refund.id,
      type: 'ADJUSTMENT',
    });
    expect(earlier.status).toBe(200);
    await stack.stack.restart('payment');

    const dead = await eventually('a dead letter', async () =>
      (await stack.internal('payment', 'GET', '/internal/outbox/dead')).body.deadLetters.find(
        (letter: { dedupeKey: string }) => letter.dedupeKey === `wallet-credit:${refund.id}`,
      ),
    );
    expect(dead).toMatchObject({
      service: 'wallet',
      path: '/api/wallets/credit',
      lastStatus: 409,
      body: { userId, amount: 90000, reference: refund.id },
    });
    expect(dead.lastError).toContain('already used');
    const logged = fs
      .readFileSync(path.join(stack.logDir, 'payment.log'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((line) => line.level === 50 && line.messageId === dead.id);
    expect(logged).toMatchObject({ service: 'wallet', status: 409, dedupeKey: `wallet-credit:${refund.id}` });

    // Never REFUNDED without the credit: the refund waits, the money sits in buyer_refunds.
    expect(await paymentRow(paymentId)).toEqual({ status: 'PAID', escrow_status: 'REFUNDED' });
    expect((await refundOf(paymentId)).status).toBe('PENDING');
    expect((await ledgerKinds(paymentId)).map(([kind]) => kind)).not.toContain('WALLET_CREDITED');
    expect(await walletOf(userId)).toEqual({ userId, balance: 1, transactions: 1 });
    expect(await notificationTypes(userId)).toEqual(['PAYMENT_SUCCEEDED']);

    // An operator retries it; the wallet refuses again, and it is back among the dead letters.
    const retried = await stack.internal('payment', 'POST', `/internal/outbox/dead/${dead.id}/retry`);
    expect(retried).toEqual({ status: 200, body: { id: dead.id, status: 'PENDING' } });
    await eventually('refused again', async () => {
      const letters = (await stack.internal('payment', 'GET', '/internal/outbox/dead')).body.deadLetters;
      return letters.find(
        (letter: { id: string; attempts: number }) => letter.id === dead.id && letter.attempts === dead.attempts + 1,
      );
    });
    expect(await paymentRow(paymentId)).toEqual({ status: 'PAID', escrow_status: 'REFUNDED' });

    // The endpoints' refusals.
    expect(await stack.internal('payment', 'POST', `/internal/outbox/dead/${newId()}/retry`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    const delivered = (await sql(`select id from outbox where delivered_at is not null limit 1`))[0];
    expect(await stack.internal('payment', 'POST', `/internal/outbox/dead/${delivered.id}/retry`)).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT' } },
    });
    const anonymous = await fetch(`${stack.serviceUrl('payment')}/internal/outbox/dead`);
    expect(anonymous.status).toBe(401);
    // Subgraphs without an outbox have no such endpoint.
    expect((await stack.internal('wallet', 'GET', '/internal/outbox/dead')).status).toBe(404);
  });
});
