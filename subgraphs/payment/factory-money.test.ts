import { Client } from 'pg';
import { startTestStack, type TestStack } from '../../test/support/e2e';
import { withDatabase } from '../../lib/database';
import { eventually } from '../../test/support/eventually';
import { newId } from '../../lib/ids';
import {
  factoryBalancePath,
  orderDeliveredPath,
  PAYOUT_RESERVE_PATH,
  PAYOUT_SETTLE_PATH,
  REFUND_ORDER_PATH,
} from '../../lib/contracts/seller';

/**
 * A factory's money through payment's internal REST, with payment, wallet, notification and the Xendit sandbox
 * in their own processes: pending until delivered or released (less the 3% commission), refunds of orders,
 * payout reservations and their outcomes, the balance, and the per-factory ledger invariant.
 */
describe("payment: a factory's money", () => {
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
    expect(body).toMatchObject({ ok: true, sum: 0, doubleSettled: [], unbalancedGroups: [], factoryMismatches: [] });
    expect(body.platformRevenue).toBe(body.commissionTotal);
  });

  const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
  const legs = async (where: string, id: string) =>
    (
      await sql(
        `select kind, account, amount::int as amount from transaction_ledger where ${where} = $1 order by kind, amount`,
        [id],
      )
    ).map((leg) => [leg.kind, leg.account, leg.amount]);
  const paymentRow = async (id: string) =>
    (await sql('select status, escrow_status, earnings_status from payments where id = $1', [id]))[0];
  const balance = async (factoryId: string) => {
    const answer = await stack.internal('payment', 'GET', factoryBalancePath(factoryId));
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const delivered = (orderId: string) => stack.internal('payment', 'POST', orderDeliveredPath(orderId));
  const refundOrder = (orderId: string, reason = 'Cancelled by the factory') =>
    stack.internal('payment', 'POST', REFUND_ORDER_PATH, { orderId, reason });
  const reserve = (body: Record<string, unknown>) => stack.internal('payment', 'POST', PAYOUT_RESERVE_PATH, body);
  const settle = (payoutId: string, outcome: string) =>
    stack.internal('payment', 'POST', PAYOUT_SETTLE_PATH, { payoutId, outcome });

  /** A paid regular payment of a new order of `factoryId`. */
  async function paidRegular(factoryId: string, amount: number, extra: Record<string, unknown> = {}) {
    const orderId = newId();
    const userId = newId();
    const created = await stack.internal('payment', 'POST', '/api/payments', {
      orderId,
      userId,
      factoryId,
      amount,
      description: 'Order of mugs',
      ...extra,
    });
    expect(created.status).toBe(200);
    await stack.payInvoice(created.body.invoiceUrl);
    return { orderId, userId, paymentId: created.body.id as string };
  }

  /** A paid escrow payment of a participant of `sessionId`. */
  async function paidEscrow(sessionId: string, factoryId: string, amount: number) {
    const participantId = newId();
    const created = await stack.internal('payment', 'POST', '/api/payments/escrow', {
      sessionId,
      participantId,
      userId: newId(),
      factoryId,
      amount,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      description: 'Group buy: batik shirts',
      refundTo: 'ORIGINAL_METHOD',
    });
    expect(created.status).toBe(200);
    await stack.payInvoice(created.body.invoiceUrl);
    return { participantId, paymentId: created.body.id as string };
  }

  it('keeps a paid regular order pending, and makes it available less 3% once delivered, however often asked', async () => {
    const factoryId = newId();
    const { orderId, paymentId } = await paidRegular(factoryId, 150000);
    expect(await legs('payment_id', paymentId)).toEqual([
      ['PAYMENT_CAPTURED', `factory_pending:${factoryId}`, -150000],
      ['PAYMENT_CAPTURED', 'gateway_clearing', 150000],
    ]);
    expect(await balance(factoryId)).toEqual({
      factoryId,
      pending: 150000,
      available: 0,
      inPayout: 0,
      paidOut: 0,
      commission: 0,
      released: 0,
      currency: 'IDR',
    });

    const calls = await Promise.all(Array.from({ length: 5 }, () => delivered(orderId)));
    for (const call of calls) {
      expect(call).toEqual({
        status: 200,
        body: { paymentId, factoryId, available: 145500, commission: 4500 },
      });
    }
    expect((await delivered(orderId)).body).toEqual(calls[0].body);
    expect((await legs('payment_id', paymentId)).filter(([kind]) => kind === 'ORDER_DELIVERED')).toEqual([
      ['ORDER_DELIVERED', `factory_available:${factoryId}`, -145500],
      ['ORDER_DELIVERED', 'platform_revenue', -4500],
      ['ORDER_DELIVERED', `factory_pending:${factoryId}`, 150000],
    ]);
    expect(await paymentRow(paymentId)).toEqual({ status: 'PAID', escrow_status: null, earnings_status: 'AVAILABLE' });
    expect(await balance(factoryId)).toMatchObject({
      pending: 0,
      available: 145500,
      commission: 4500,
      released: 150000,
    });

    // Delivered money is the factory's: it cannot be refunded from here.
    const refused = await refundOrder(orderId);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await sql('select id from refunds where payment_id = $1', [paymentId])).toEqual([]);

    // Unpaid, unknown, malformed.
    const unpaidOrder = newId();
    await stack.internal('payment', 'POST', '/api/payments', {
      orderId: unpaidOrder,
      userId: newId(),
      factoryId,
      amount: 50000,
      description: 'Unpaid',
    });
    expect((await delivered(unpaidOrder)).body.error.code).toBe('CONFLICT');
    expect((await refundOrder(unpaidOrder)).body.error.code).toBe('CONFLICT');
    expect((await delivered(newId())).status).toBe(404);
    expect((await delivered('nope')).status).toBe(404);
    expect((await refundOrder(newId())).status).toBe(404);
    expect((await stack.internal('payment', 'POST', REFUND_ORDER_PATH, { orderId })).status).toBe(400);
    expect((await stack.internal('payment', 'GET', factoryBalancePath('nope'))).status).toBe(400);
  });

  it('makes released escrow available less commission, and counts held escrow as pending', async () => {
    const factoryId = newId();
    const sessionId = newId();
    const held = [await paidEscrow(sessionId, factoryId, 100000), await paidEscrow(sessionId, factoryId, 99999)];
    expect(await balance(factoryId)).toMatchObject({ pending: 199999, available: 0 });

    const released = await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId });
    expect(released.body).toEqual({ released: 2 });
    // floor(3% of 100000) = 3000, floor(3% of 99999) = 2999.
    expect((await legs('payment_id', held[1].paymentId)).filter(([kind]) => kind === 'ESCROW_RELEASED')).toEqual([
      ['ESCROW_RELEASED', `factory_available:${factoryId}`, -97000],
      ['ESCROW_RELEASED', 'platform_revenue', -2999],
      ['ESCROW_RELEASED', 'escrow', 99999],
    ]);
    expect(await balance(factoryId)).toMatchObject({
      pending: 0,
      available: 97000 + 97000,
      commission: 5999,
      released: 199999,
    });
  });

  it("refunds an order's payment once: regular to the original method or the wallet, and a group order's escrow", async () => {
    const factoryId = newId();

    // Regular, to the method the buyer paid with (through Xendit).
    const viaXendit = await paidRegular(factoryId, 120000);
    const calls = await Promise.all(Array.from({ length: 4 }, () => refundOrder(viaXendit.orderId)));
    const refund = calls[0].body.refund;
    expect(refund).toMatchObject({
      paymentId: viaXendit.paymentId,
      amount: 120000,
      destination: 'ORIGINAL_METHOD',
    });
    for (const call of calls) expect(call.body.refund.id).toBe(refund.id);
    expect(await balance(factoryId)).toMatchObject({ pending: 0, available: 0 });
    await eventually(
      'regular refund settled',
      async () => (await paymentRow(viaXendit.paymentId)).status === 'REFUNDED',
    );
    expect(await paymentRow(viaXendit.paymentId)).toEqual({
      status: 'REFUNDED',
      escrow_status: null,
      earnings_status: 'REFUNDED',
    });
    expect(await legs('payment_id', viaXendit.paymentId)).toEqual([
      ['PAYMENT_CAPTURED', `factory_pending:${factoryId}`, -120000],
      ['PAYMENT_CAPTURED', 'gateway_clearing', 120000],
      ['REFUND_RESERVED', 'buyer_refunds', -120000],
      ['REFUND_RESERVED', `factory_pending:${factoryId}`, 120000],
      ['REFUND_SETTLED', 'gateway_clearing', -120000],
      ['REFUND_SETTLED', 'buyer_refunds', 120000],
    ]);
    expect((await refundOrder(viaXendit.orderId)).body.refund).toMatchObject({ id: refund.id, status: 'SUCCEEDED' });
    expect((await delivered(viaXendit.orderId)).status).toBe(409);
    // The order hears of it through the outbox.
    expect(
      await sql(`select body->>'status' as status from outbox where dedupe_key = $1`, [
        `order-status:${viaXendit.paymentId}:REFUNDED`,
      ]),
    ).toEqual([{ status: 'REFUNDED' }]);

    // Regular, to the wallet where the buyer chose it.
    const viaWallet = await paidRegular(factoryId, 80000, { refundTo: 'WALLET' });
    const toWallet = await refundOrder(viaWallet.orderId);
    expect(toWallet.body.refund).toMatchObject({ amount: 80000, destination: 'WALLET', status: 'PENDING' });
    await eventually('wallet refund done', async () => (await paymentRow(viaWallet.paymentId)).status === 'REFUNDED');
    expect((await stack.internal('wallet', 'GET', `/api/wallets/${viaWallet.userId}`)).body).toMatchObject({
      balance: 80000,
    });
    expect((await legs('payment_id', viaWallet.paymentId)).filter(([kind]) => kind === 'WALLET_CREDITED')).toEqual([
      ['WALLET_CREDITED', `wallet:${viaWallet.userId}`, -80000],
      ['WALLET_CREDITED', 'buyer_refunds', 80000],
    ]);
    expect((await refundOrder(viaWallet.orderId)).body.refund.id).toBe(toWallet.body.refund.id);

    // A group-buying order: its participant's escrow payment, while HELD.
    const sessionId = newId();
    const participant = await paidEscrow(sessionId, factoryId, 90000);
    const other = await paidEscrow(sessionId, factoryId, 90000);
    const groupOrder = newId();
    const linked = await stack.internal('payment', 'POST', '/api/payments/link-orders', {
      links: [
        { participantId: participant.participantId, orderId: groupOrder },
        { participantId: other.participantId, orderId: newId() },
      ],
    });
    expect(linked.status).toBe(200);
    expect((await delivered(groupOrder)).status).toBe(409);
    const fromEscrow = await refundOrder(groupOrder);
    expect(fromEscrow.body.refund).toMatchObject({ paymentId: participant.paymentId, amount: 90000 });
    expect((await paymentRow(participant.paymentId)).escrow_status).toBe('REFUNDED');
    expect((await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId })).body).toEqual({
      released: 1,
    });
    await eventually('escrow refund done', async () => (await paymentRow(participant.paymentId)).status === 'REFUNDED');
    expect((await legs('payment_id', participant.paymentId)).map(([kind, account]) => [kind, account])).toEqual([
      ['ESCROW_HELD', 'escrow'],
      ['ESCROW_HELD', 'gateway_clearing'],
      ['REFUND_RESERVED', 'buyer_refunds'],
      ['REFUND_RESERVED', 'escrow'],
      ['REFUND_SETTLED', 'gateway_clearing'],
      ['REFUND_SETTLED', 'buyer_refunds'],
    ]);
    // The other participant's money was released: too late to refund it from here.
    const released = (await sql('select order_id from payments where id = $1', [other.paymentId]))[0].order_id;
    expect((await refundOrder(released)).status).toBe(409);
    expect(await balance(factoryId)).toMatchObject({ pending: 0, available: 90000 - 2700, commission: 2700 });
  });

  it('lets a delivery and a refund of the same order race: exactly one of them moves the money', async () => {
    const factoryId = newId();
    const orders = [];
    for (let i = 0; i < 5; i += 1) orders.push(await paidRegular(factoryId, 10000));
    const answers = await Promise.all(
      orders.map(({ orderId }) => Promise.all([delivered(orderId), refundOrder(orderId)])),
    );
    let deliveredCount = 0;
    for (const [i, [delivery, refund]] of answers.entries()) {
      expect([delivery.status, refund.status].sort()).toEqual([200, 409]);
      if (delivery.status === 200) deliveredCount += 1;
      const legKinds = (await legs('payment_id', orders[i].paymentId)).map(([kind]) => kind);
      expect(legKinds.filter((kind) => kind === 'ORDER_DELIVERED' || kind === 'REFUND_RESERVED')).toHaveLength(
        delivery.status === 200 ? 3 : 2,
      );
      expect((await paymentRow(orders[i].paymentId)).earnings_status).toBe(
        delivery.status === 200 ? 'AVAILABLE' : 'REFUNDED',
      );
    }
    expect(await balance(factoryId)).toMatchObject({
      pending: 0,
      available: deliveredCount * 9700,
      commission: deliveredCount * 300,
    });
  });

  it('reserves payouts from available money atomically: of 10 concurrent ones, exactly those that fit', async () => {
    const factoryId = newId();
    const { orderId } = await paidRegular(factoryId, 100000);
    expect((await delivered(orderId)).body.available).toBe(97000);

    const payoutIds = Array.from({ length: 10 }, () => newId());
    const answers = await Promise.all(payoutIds.map((payoutId) => reserve({ payoutId, factoryId, amount: 20000 })));
    const won = answers.filter((answer) => answer.status === 200);
    expect(won.map((answer) => answer.body.available).sort((a, b) => a - b)).toEqual([17000, 37000, 57000, 77000]);
    for (const lost of answers.filter((answer) => answer.status !== 200)) {
      expect(lost).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT' } } });
      expect(lost.body.error.message).toContain('available 17000');
    }
    expect(await balance(factoryId)).toMatchObject({ available: 17000, inPayout: 80000 });

    // A repeat answers the same; the same id for another amount or factory is refused.
    const first = won[0].body;
    const firstAmount = { payoutId: first.payoutId, factoryId, amount: 20000 };
    expect(await reserve(firstAmount)).toEqual({ status: 200, body: first });
    expect((await reserve({ ...firstAmount, amount: 10000 })).status).toBe(409);
    expect((await reserve({ ...firstAmount, factoryId: newId() })).status).toBe(409);
    for (const amount of [0, -5, 10.5, '20000']) {
      expect((await reserve({ payoutId: newId(), factoryId, amount })).status).toBe(400);
    }
    expect((await reserve({ payoutId: 'nope', factoryId, amount: 1000 })).status).toBe(400);
    expect((await reserve({ payoutId: newId(), factoryId: newId(), amount: 1000 })).body.error.message).toContain(
      'available 0',
    );
    expect(await balance(factoryId)).toMatchObject({ available: 17000, inPayout: 80000 });
    expect(await legs('payout_id', first.payoutId)).toEqual([
      ['PAYOUT_RESERVED', `factory_in_payout:${factoryId}`, -20000],
      ['PAYOUT_RESERVED', `factory_available:${factoryId}`, 20000],
    ]);
  });

  it('books payout outcomes once each: paid out, failed or cancelled back to available, reversed after success', async () => {
    const factoryId = newId();
    const { orderId } = await paidRegular(factoryId, 100000);
    await delivered(orderId);
    const [succeeded, failed, cancelled, reversed] = Array.from({ length: 4 }, () => newId());
    for (const payoutId of [succeeded, failed, cancelled, reversed])
      expect((await reserve({ payoutId, factoryId, amount: 20000 })).status).toBe(200);

    expect(await settle(succeeded, 'SUCCEEDED')).toEqual({
      status: 200,
      body: { payoutId: succeeded, outcome: 'SUCCEEDED' },
    });
    expect((await settle(succeeded, 'SUCCEEDED')).status).toBe(200);
    expect((await settle(succeeded, 'FAILED')).status).toBe(409);
    expect(await legs('payout_id', succeeded)).toEqual([
      ['PAYOUT_RESERVED', `factory_in_payout:${factoryId}`, -20000],
      ['PAYOUT_RESERVED', `factory_available:${factoryId}`, 20000],
      ['PAYOUT_SUCCEEDED', 'gateway_clearing', -20000],
      ['PAYOUT_SUCCEEDED', `factory_in_payout:${factoryId}`, 20000],
    ]);
    expect(await balance(factoryId)).toMatchObject({ available: 17000, inPayout: 60000, paidOut: 20000 });

    const outcomes = await Promise.all([
      settle(failed, 'FAILED'),
      settle(failed, 'FAILED'),
      settle(failed, 'SUCCEEDED'),
      settle(cancelled, 'CANCELLED'),
      settle(cancelled, 'CANCELLED'),
    ]);
    // Concurrent contradicting outcomes: whichever came first stands, the other is refused.
    const failedWon = outcomes[0].status === 200;
    expect(outcomes.map((o) => o.status)).toEqual(failedWon ? [200, 200, 409, 200, 200] : [409, 409, 200, 200, 200]);
    expect(await balance(factoryId)).toMatchObject(
      failedWon
        ? { available: 57000, inPayout: 20000, paidOut: 20000 }
        : { available: 37000, inPayout: 20000, paidOut: 40000 },
    );

    expect((await settle(reversed, 'SUCCEEDED')).status).toBe(200);
    expect((await settle(reversed, 'REVERSED')).status).toBe(200);
    expect((await settle(reversed, 'REVERSED')).status).toBe(200);
    // Still true that it succeeded once: a late SUCCEEDED changes nothing; FAILED now is refused.
    expect((await settle(reversed, 'SUCCEEDED')).status).toBe(200);
    expect((await settle(reversed, 'FAILED')).status).toBe(409);
    expect((await legs('payout_id', reversed)).map(([kind]) => kind)).toEqual([
      'PAYOUT_RESERVED',
      'PAYOUT_RESERVED',
      'PAYOUT_REVERSED',
      'PAYOUT_REVERSED',
      'PAYOUT_SUCCEEDED',
      'PAYOUT_SUCCEEDED',
    ]);
    expect(await balance(factoryId)).toMatchObject(
      failedWon
        ? { available: 77000, inPayout: 0, paidOut: 20000, released: 100000, commission: 3000 }
        : { available: 57000, inPayout: 0, paidOut: 40000, released: 100000, commission: 3000 },
    );

    expect((await settle(newId(), 'SUCCEEDED')).status).toBe(404);
    expect((await settle(succeeded, 'PAID')).status).toBe(400);
    expect((await settle('nope', 'FAILED')).status).toBe(400);
  });

  it('books a reversal delivered before its success as paid out then reversed; the late SUCCEEDED is a replay', async () => {
    const factoryId = newId();
    const { orderId } = await paidRegular(factoryId, 100000);
    await delivered(orderId);
    const [early, raced] = [newId(), newId()];
    for (const payoutId of [early, raced])
      expect((await reserve({ payoutId, factoryId, amount: 20000 })).status).toBe(200);

    // Settlement's outbox retried the SUCCEEDED payment missed while down, after the REVERSED.
    expect(await settle(early, 'REVERSED')).toEqual({ status: 200, body: { payoutId: early, outcome: 'REVERSED' } });
    expect(await legs('payout_id', early)).toEqual([
      ['PAYOUT_RESERVED', `factory_in_payout:${factoryId}`, -20000],
      ['PAYOUT_RESERVED', `factory_available:${factoryId}`, 20000],
      ['PAYOUT_REVERSED', `factory_available:${factoryId}`, -20000],
      ['PAYOUT_REVERSED', 'gateway_clearing', 20000],
      ['PAYOUT_SUCCEEDED', 'gateway_clearing', -20000],
      ['PAYOUT_SUCCEEDED', `factory_in_payout:${factoryId}`, 20000],
    ]);
    expect(await balance(factoryId)).toMatchObject({ available: 77000, inPayout: 20000, paidOut: 0 });
    for (const outcome of ['SUCCEEDED', 'REVERSED'])
      expect(await settle(early, outcome)).toEqual({ status: 200, body: { payoutId: early, outcome } });
    for (const outcome of ['FAILED', 'CANCELLED']) expect((await settle(early, outcome)).status).toBe(409);
    expect(await legs('payout_id', early)).toHaveLength(6);

    // Both at once, in either order: each movement once.
    const answers = await Promise.all([settle(raced, 'REVERSED'), settle(raced, 'SUCCEEDED')]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect((await legs('payout_id', raced)).map(([kind]) => kind)).toEqual([
      'PAYOUT_RESERVED',
      'PAYOUT_RESERVED',
      'PAYOUT_REVERSED',
      'PAYOUT_REVERSED',
      'PAYOUT_SUCCEEDED',
      'PAYOUT_SUCCEEDED',
    ]);
    expect(await balance(factoryId)).toMatchObject({
      available: 97000,
      inPayout: 0,
      paidOut: 0,
      released: 100000,
      commission: 3000,
    });
  });

  it('detects money moved between two factories outside the rules', async () => {
    const [rich, poor] = [newId(), newId()];
    const { orderId } = await paidRegular(rich, 10000);
    await delivered(orderId);
    const payoutId = newId();
    const groupId = newId();
    await sql(
      `insert into transaction_ledger (id, group_id, account, amount, payout_id, kind) values
         ($1, $3, $4, 5000, $6, 'PAYOUT_RESERVED'), ($2, $3, $5, -5000, $6, 'PAYOUT_RESERVED')`,
      [newId(), newId(), groupId, `factory_available:${rich}`, `factory_available:${poor}`, payoutId],
    );
    const broken = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(broken.body).toMatchObject({ ok: false, sum: 0, unbalancedGroups: [] });
    expect(broken.body.factoryMismatches.sort()).toEqual([rich, poor].sort());
    expect(broken.body.factories).toContainEqual(
      expect.objectContaining({ factoryId: poor, released: 0, commission: 0, available: 5000, balanced: false }),
    );
    await sql('delete from transaction_ledger where group_id = $1', [groupId]);
  });
});
