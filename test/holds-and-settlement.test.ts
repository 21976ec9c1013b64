import http from 'node:http';
import type { Client } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import { startTestStack, subgraphSocket, type TestStack, errorCode, ok } from './support/e2e';
import { eventually } from './support/eventually';
import { freePort } from './support/ports';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import type { Caller } from '../lib/internal-auth';
import { newId } from '../lib/ids';
import { withDatabase } from '../lib/database';
import { CREATE_ORDER, createAddress } from '../subgraphs/order/test-support';

const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const PRODUCT = DEMO_PRODUCTS[0];
const VARIANT = PRODUCT.variants[0];
const MUG = DEMO_PRODUCTS[2].variants[0].id as string;
const PRICE = 40000;
/** 6 s: long enough for a burst of joins or orders to land, short enough to watch it run out. */
const HOLD_MINUTES = 0.1;
const HOLD_MS = HOLD_MINUTES * 60_000;
const LARGE = 10_000;
/**
 * Refunds go to Xendit one call each (about 130/s on 2 cores), so the failed session is smaller than LARGE: five
 * chunks of the default 500 still show chunked, exactly-once refunds without a minute and a half of calls.
 */
const LARGE_FAILED = 2_500;

/**
 * Unpaid holds (joins and regular orders give their place or stock back, at most MAX_UNPAID_ORDERS each)
 * and settlement of large sessions (chunks, claim renewal, crash take-over, back-off), on one stack. The
 * large sessions' participants, payments and ledger legs are written straight into the databases and
 * their invoices made and paid at the Xendit sandbox in bulk (its seeding hook), which keeps seeding fast; settlement
 * itself then runs through the real processes and HTTP calls. Xendit's callbacks for those seeded
 * invoices and their refunds go to a sink: the payments are already recorded, and this file tests what
 * our services send, not what Xendit sends back.
 */
describe('unpaid holds and large-session settlement', () => {
  let stack: TestStack;
  let sink: http.Server;
  let ws: Client;
  const dbs: Record<string, PgClient> = {};
  const sql = async (db: 'group_buying' | 'payment' | 'order' | 'warehouse', text: string, params: unknown[] = []) =>
    (await dbs[db].query(text, params)).rows;

  const gql = (query: string, variables: Record<string, unknown>, caller?: Caller) =>
    stack.graphql(query, variables, caller ? { caller } : undefined);

  async function buyer(): Promise<{ caller: Caller; addressId: string }> {
    const caller: Caller = { userId: newId(), role: 'BUYER' };
    return { caller, addressId: await createAddress(stack, caller) };
  }

  async function openSession(moq: number): Promise<string> {
    const input = {
      productId: PRODUCT.id,
      variantId: VARIANT.id,
      moq,
      groupPrice: PRICE,
      endsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    };
    return ok(
      await gql(
        `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
        { input },
        OWNER,
      ),
    ).createGroupBuyingSession.id;
  }

  const join = (who: { caller: Caller; addressId: string }, sessionId: string, quantity: number) =>
    gql(
      `mutation ($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { participant { id status } paymentUrl } }`,
      { input: { sessionId, quantity, addressId: who.addressId } },
      who.caller,
    );

  const sessionOf = async (sessionId: string, caller?: Caller) =>
    ok(
      await gql(
        `query ($id: ID!) { groupBuyingSession(id: $id) { joinedQuantity participantsCount myParticipation { id status } } }`,
        { id: sessionId },
        caller,
      ),
    ).groupBuyingSession;

  /** The invoice's lifetime at Xendit, in ms: what `invoiceDuration` asked for. */
  const invoiceLifetimeMs = async (paymentUrl: string) => {
    const { invoice } = (await stack.sandbox('GET', `/__sandbox/xendit/invoices/${paymentUrl.split('/').pop()}`)).body;
    return Date.parse(invoice.expiry_date) - Date.parse(invoice.created);
  };

  /**
   * A session that ended FORMING with `count` participants who each paid for one unit: participants in
   * group-buying, PAID escrow payments with their ESCROW_HELD ledger legs in payment, and (with
   * `invoices`) a paid invoice at the Xendit sandbox per payment, as the webhooks would have left them.
   */
  async function seedEndedSession(
    count: number,
    moq: number,
    options: { invoices?: boolean } = {},
  ): Promise<{ sessionId: string; invoiceIds: string[] }> {
    const sessionId = newId();
    const participantIds = Array.from({ length: count }, () => newId());
    const paymentIds = Array.from({ length: count }, () => newId());
    const userIds = Array.from({ length: count }, () => newId());
    const invoiceIds: string[] = Array(count).fill(null);
    if (options.invoices) {
      for (let i = 0; i < count; i += 1000) {
        const batch = paymentIds
          .slice(i, i + 1000)
          .map((id) => ({ external_id: id, amount: PRICE, currency: 'IDR', invoice_duration: 3600 }));
        const seeded = await stack.sandbox('POST', '/__sandbox/xendit/invoices/paid', { invoices: batch });
        if (seeded.status !== 200) throw new Error(`sandbox invoices: ${JSON.stringify(seeded.body)}`);
        seeded.body.invoices.forEach((invoice: { id: string }, k: number) => (invoiceIds[i + k] = invoice.id));
      }
    }
    await sql(
      'payment',
      `with seeded as (
         insert into payments (id, user_id, session_id, participant_id, factory_id, is_in_escrow, amount, description, status, escrow_status, refund_to, invoice_id, paid_at)
         select p.id, p.user_id, $1, p.participant_id, $2, true, $3, 'Seeded group buy', 'PAID', 'HELD', 'ORIGINAL_METHOD', p.invoice_id, now()
           from unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[]) as p(id, participant_id, user_id, invoice_id)
         returning id, amount)
       insert into transaction_ledger (id, group_id, account, amount, payment_id, kind)
       select gen_random_uuid(), s.id, leg.account, leg.sign * s.amount, s.id, 'ESCROW_HELD'
         from seeded s cross join (values ('gateway_clearing', 1), ('escrow', -1)) as leg(account, sign)`,
      [sessionId, PRODUCT.factoryId, PRICE, paymentIds, participantIds, userIds, invoiceIds],
    );
    await dbs.group_buying.query('begin');
    await sql(
      'group_buying',
      `insert into group_buying_sessions (id, product_id, variant_id, factory_id, created_by, moq, group_price, ends_at, joined_quantity, paid_quantity, participants_count)
       values ($1, $2, $3, $4, $5, $6, $7, now(), $8, $8, $8)`,
      [sessionId, PRODUCT.id, VARIANT.id, PRODUCT.factoryId, OWNER.userId, moq, PRICE, count],
    );
    await sql(
      'group_buying',
      `insert into group_participants (id, session_id, user_id, quantity, unit_price, amount, address_id, status, payment_id, paid_at)
       select p.id, $1, p.user_id, 1, $2, $2, gen_random_uuid(), 'PAID', p.payment_id, now()
         from unnest($3::uuid[], $4::uuid[], $5::uuid[]) as p(id, user_id, payment_id)`,
      [sessionId, PRICE, participantIds, userIds, paymentIds],
    );
    await dbs.group_buying.query('commit');
    return { sessionId, invoiceIds };
  }

  const settlementOf = async (sessionId: string) =>
    (
      await sql(
        'group_buying',
        'select status, settlement_state, settlement_attempts, settlement_retry_at > now() as waiting, settlement_error from group_buying_sessions where id = $1',
        [sessionId],
      )
    )[0];
  const waitSettled = (sessionId: string, timeoutMs: number) =>
    eventually(
      `session ${sessionId} settled`,
      async () => (await settlementOf(sessionId)).settlement_state === 'SETTLED',
      timeoutMs,
    );

  beforeAll(async () => {
    sink = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    const sinkPort = await freePort();
    await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
    stack = await startTestStack({
      subgraphs: ['product', 'factory', 'address', 'warehouse', 'payment', 'notification', 'order', 'group-buying'],
      sandbox: true,
      env: {
        UNPAID_HOLD_MINUTES: String(HOLD_MINUTES),
        UNPAID_SWEEP_MS: '300',
        SETTLEMENT_CLAIM_TTL_MS: '5000',
        SETTLEMENT_BACKOFF_MAX_MS: '4000',
        XENDIT_WEBHOOK_BASE_URL: `http://127.0.0.1:${sinkPort}`,
      },
    });
    for (const name of ['group_buying', 'payment', 'order', 'warehouse']) {
      dbs[name] = new PgClient({
        connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_${name}`),
      });
      await dbs[name].connect();
    }
    ws = subgraphSocket(stack, 'group-buying');
  }, 180_000);

  afterAll(async () => {
    await ws?.dispose();
    for (const db of Object.values(dbs)) await db.end();
    await stack?.stop();
    await new Promise((resolve) => sink?.close(resolve));
  });

  it('gives an unpaid join back after the hold: place, quantity and invoice, and the buyer may join again', async () => {
    const who = await buyer();
    const sessionId = await openSession(5);
    const events: { joinedQuantity: number; participantsCount: number }[] = [];
    const stop = ws.subscribe(
      {
        query: `subscription ($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { joinedQuantity participantsCount } }`,
        variables: { id: sessionId },
      },
      {
        next: (message) => void events.push(message.data!.groupBuyingSessionProgress as any),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // graphql-ws does not acknowledge a subscribe
    try {
      const first = ok(await join(who, sessionId, 2)).joinGroupBuyingSession;
      expect(await sessionOf(sessionId)).toMatchObject({ joinedQuantity: 2, participantsCount: 1 });
      // Xendit expires the invoice by itself when the hold runs out.
      expect(Math.abs((await invoiceLifetimeMs(first.paymentUrl)) - HOLD_MS)).toBeLessThan(1500);

      await eventually(
        'the place to expire',
        async () => (await sessionOf(sessionId, who.caller)).myParticipation?.status === 'EXPIRED',
        20_000,
      );
      // Read again: one query may load the session row before the sweep commits and the participant after it.
      expect(await sessionOf(sessionId, who.caller)).toMatchObject({ joinedQuantity: 0, participantsCount: 0 });
      await eventually('the progress event giving the quantity back', async () =>
        events.some((e) => e.joinedQuantity === 0 && e.participantsCount === 0),
      );
      // Payment was told (outbox) and expired the payment; the invoice is closed at Xendit.
      const [payment] = await eventually('the payment expired', async () => {
        const rows = await sql('payment', 'select status, invoice_id from payments where participant_id = $1', [
          first.participant.id,
        ]);
        return rows[0]?.status === 'EXPIRED' && rows;
      });
      expect((await stack.sandbox('GET', `/__sandbox/xendit/invoices/${payment.invoice_id}`)).body.invoice.status).toBe(
        'EXPIRED',
      );

      const again = ok(await join(who, sessionId, 1)).joinGroupBuyingSession;
      expect(again.participant).toMatchObject({ status: 'PENDING_PAYMENT' });
      expect(again.participant.id).not.toBe(first.participant.id);
      expect(await sessionOf(sessionId, who.caller)).toMatchObject({
        joinedQuantity: 1,
        participantsCount: 1,
        myParticipation: { id: again.participant.id },
      });
    } finally {
      stop();
    }
  });

  it('lets a buyer hold at most MAX_UNPAID_ORDERS unpaid places, even joining five sessions at once', async () => {
    const who = await buyer();
    const sessionIds = await Promise.all(Array.from({ length: 5 }, () => openSession(5)));
    const results = await Promise.all(sessionIds.map((id) => join(who, id, 1)));
    expect(results.filter((result) => !result.errors)).toHaveLength(3);
    const refused = results.filter((result) => result.errors);
    expect(refused.map(errorCode)).toEqual(['CONFLICT', 'CONFLICT']);
    expect(refused[0].errors![0].message).toMatch(/3 unpaid group-buying places/);
    expect(
      Number(
        (
          await sql('group_buying', `select count(*) from group_participants where user_id = $1`, [who.caller.userId])
        )[0].count,
      ),
    ).toBe(3);
    // Once the holds run out, the buyer may join again.
    await eventually(
      'the holds to run out',
      async () => {
        const rows = await sql(
          'group_buying',
          `select count(*) from group_participants where user_id = $1 and status = 'PENDING_PAYMENT'`,
          [who.caller.userId],
        );
        return Number(rows[0].count) === 0;
      },
      20_000,
    );
    const refusedSession = sessionIds[results.findIndex((result) => result.errors)];
    expect(ok(await join(who, refusedSession, 1)).joinGroupBuyingSession.participant.status).toBe('PENDING_PAYMENT');
  });

  it('cancels an unpaid order after the hold, releases its stock, expires its invoice; at most MAX_UNPAID_ORDERS at once', async () => {
    const who = await buyer();
    const reserved = async () =>
      Number(
        (
          await sql('warehouse', 'select coalesce(sum(reserved), 0) as n from inventory where variant_id = $1', [MUG])
        )[0].n,
      );
    const before = await reserved();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        gql(
          CREATE_ORDER,
          { input: { addressId: who.addressId, items: [{ variantId: MUG, quantity: 1 }] } },
          who.caller,
        ),
      ),
    );
    const placed = results.filter((result) => !result.errors).map((result) => result.data.createOrder);
    expect(placed).toHaveLength(3);
    const refused = results.filter((result) => result.errors);
    expect(refused.map(errorCode)).toEqual(['CONFLICT', 'CONFLICT']);
    expect(refused[0].errors![0].message).toMatch(/3 unpaid orders/);
    expect(await reserved()).toBe(before + 3);
    for (const { paymentUrl } of placed)
      expect(Math.abs((await invoiceLifetimeMs(paymentUrl)) - HOLD_MS)).toBeLessThan(1500);

    const orderIds = placed.map((p: any) => p.order.id);
    await eventually(
      'the orders cancelled',
      async () => {
        const rows = await sql('order', `select status from orders where id = any($1::uuid[])`, [orderIds]);
        return rows.length === 3 && rows.every((row) => row.status === 'CANCELLED');
      },
      20_000,
    );
    await eventually('the stock released', async () => (await reserved()) === before);
    const payments = await eventually('the payments expired', async () => {
      const rows = await sql('payment', `select status, invoice_id from payments where order_id = any($1::uuid[])`, [
        orderIds,
      ]);
      return rows.length === 3 && rows.every((row) => row.status === 'EXPIRED') && rows;
    });
    for (const payment of payments) {
      expect((await stack.sandbox('GET', `/__sandbox/xendit/invoices/${payment.invoice_id}`)).body.invoice.status).toBe(
        'EXPIRED',
      );
    }
    expect(
      ok(
        await gql(
          CREATE_ORDER,
          { input: { addressId: who.addressId, items: [{ variantId: MUG, quantity: 1 }] } },
          who.caller,
        ),
      ).createOrder.order.status,
    ).toBe('PENDING_PAYMENT');
  });

  it('opens an invoice holding no row lock during the Xendit call; concurrent retries share one invoice', async () => {
    // An escrow invoice, which lives an hour here: a regular one would lapse with this file's short hold.
    const participantId = newId();
    const body = {
      sessionId: newId(),
      participantId,
      userId: newId(),
      factoryId: PRODUCT.factoryId,
      amount: 90000,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      description: 'Lock-free invoice',
    };
    expect(
      (await stack.sandbox('POST', '/__sandbox/xendit/slowdowns', { delayMs: 1500, count: 1000, path: 'invoices' }))
        .status,
    ).toBe(204);
    try {
      const calls = Promise.all(
        Array.from({ length: 4 }, () => stack.internal('payment', 'POST', '/api/payments/escrow', body)),
      );
      const row = await eventually(
        'the payment row',
        async () => (await sql('payment', 'select id from payments where participant_id = $1', [participantId]))[0],
      );
      // While Xendit is slow, the row can be locked by anyone else at once.
      await dbs.payment.query('begin');
      await sql('payment', 'select id from payments where id = $1 for update nowait', [row.id]);
      await dbs.payment.query('rollback');
      const answers = await calls;
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(answers.map((answer) => answer.body.invoiceUrl)).size).toBe(1);
      const invoices = (await stack.sandbox('GET', `/v2/invoices?external_id=${row.id}&limit=20`)).body as {
        id: string;
        status: string;
      }[];
      expect(invoices.filter((invoice) => invoice.status === 'PENDING').map((invoice) => invoice.id)).toEqual([
        answers[0].body.invoiceUrl.split('/').pop(),
      ]);
    } finally {
      await stack.sandbox('DELETE', '/__sandbox/xendit/faults');
    }
  });

  it(`settles a session of ${LARGE} participants in chunks, and a crash of group-buying half way repeats nothing`, async () => {
    const started = Date.now();
    const { sessionId } = await seedEndedSession(LARGE, LARGE);
    const ordered = async () =>
      Number(
        (
          await sql(
            'group_buying',
            `select count(*) from group_participants where session_id = $1 and status = 'ORDERED'`,
            [sessionId],
          )
        )[0].count,
      );
    const claim = async () =>
      (
        await sql(
          'group_buying',
          'select processing_claim, processing_claimed_at from group_buying_sessions where id = $1',
          [sessionId],
        )
      )[0];
    // The claim is renewed after every chunk: same holder, a later time.
    await eventually('the first chunk ordered', async () => (await ordered()) > 0, 120_000);
    const early = await claim();
    const renewed = await eventually(
      'the claim renewed',
      async () => {
        const now = await claim();
        return now.processing_claimed_at > early.processing_claimed_at && now;
      },
      30_000,
    );
    expect(renewed.processing_claim).toBe(early.processing_claim);
    // Kill group-buying once a few chunks are done, mid-settlement.
    const halfWay = await eventually(
      'a few chunks ordered',
      async () => {
        const n = await ordered();
        return n >= 1000 && n;
      },
      120_000,
    );
    await stack.stack.kill('group-buying');
    const atKill = await ordered();
    expect(halfWay).toBeLessThan(LARGE);
    await stack.stack.startOne('group-buying');

    // The restarted process takes the lapsed claim over and finishes.
    await waitSettled(sessionId, 180_000);
    expect(atKill).toBeLessThan(LARGE);
    expect(await ordered()).toBe(LARGE);
    const orders = await sql(
      'order',
      `select count(*) as n, count(distinct participant_id) as participants from orders where session_id = $1`,
      [sessionId],
    );
    expect(orders[0]).toEqual({ n: String(LARGE), participants: String(LARGE) });
    const mismatched = await sql(
      'group_buying',
      `select count(*) from group_participants where session_id = $1 and (status <> 'ORDERED' or order_id is null)`,
      [sessionId],
    );
    expect(Number(mismatched[0].count)).toBe(0);
    await eventually(
      'every escrow payment linked to its order',
      async () => {
        const rows = await sql('payment', 'select count(order_id) as n from payments where session_id = $1', [
          sessionId,
        ]);
        return Number(rows[0].n) === LARGE;
      },
      60_000,
    );
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body.ok).toBe(true);
    process.stdout.write(
      `${LARGE}-participant MOQ session settled (with a crash) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }, 300_000);

  it(`refunds a failed session of ${LARGE_FAILED} participants at Xendit exactly once each`, async () => {
    const seeding = Date.now();
    const { sessionId, invoiceIds } = await seedEndedSession(LARGE_FAILED, LARGE_FAILED + 1, { invoices: true });
    const started = Date.now();
    await waitSettled(sessionId, 180_000);
    const settledIn = Date.now() - started;
    expect((await settlementOf(sessionId)).status).toBe('FAILED');
    const refunds = await sql(
      'payment',
      'select count(*) as n, count(distinct payment_id) as payments, count(xendit_refund_id) as sent from refunds where session_id = $1',
      [sessionId],
    );
    expect(refunds[0]).toEqual({ n: String(LARGE_FAILED), payments: String(LARGE_FAILED), sent: String(LARGE_FAILED) });
    const ours = new Set(invoiceIds);
    const atXendit = (await stack.sandbox('GET', '/__sandbox/xendit/refunds')).body.refunds.filter((r: any) =>
      ours.has(r.refund.invoice_id),
    );
    expect(atXendit).toHaveLength(LARGE_FAILED);
    expect(new Set(atXendit.map((r: any) => r.refund.invoice_id)).size).toBe(LARGE_FAILED);
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body.ok).toBe(true);
    process.stdout.write(
      `${LARGE_FAILED}-participant failed session: seeded in ${((started - seeding) / 1000).toFixed(1)} s, refunded in ${(settledIn / 1000).toFixed(1)} s\n`,
    );
  }, 300_000);

  it('backs a failing session off while another session settles, then finishes it', async () => {
    expect(
      (await stack.sandbox('POST', '/__sandbox/xendit/faults', { status: 503, count: 1000, path: 'refunds' })).status,
    ).toBe(204);
    let failing: string;
    try {
      ({ sessionId: failing } = await seedEndedSession(3, 10, { invoices: true }));
      const { sessionId: healthy } = await seedEndedSession(3, 3);
      await waitSettled(healthy, 30_000);
      expect((await settlementOf(healthy)).status).toBe('MOQ_REACHED');

      const backingOff = await eventually(
        'the failing session to back off',
        async () => {
          const state = await settlementOf(failing);
          return state.settlement_attempts >= 2 && state;
        },
        20_000,
      );
      expect(backingOff).toMatchObject({ status: 'FAILED', settlement_state: 'PENDING' });
      expect(backingOff.settlement_error).toMatch(/payment/);
      // Sweeps run every 500 ms; a session tried on each would have far more attempts by now.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const later = await settlementOf(failing);
      expect(later.settlement_attempts).toBeLessThanOrEqual(backingOff.settlement_attempts + 2);
    } finally {
      expect((await stack.sandbox('DELETE', '/__sandbox/xendit/faults')).status).toBe(204);
    }
    await waitSettled(failing, 30_000);
    expect(await settlementOf(failing)).toMatchObject({ settlement_attempts: 0, settlement_error: null });
    const refunds = await sql('payment', 'select count(xendit_refund_id) as sent from refunds where session_id = $1', [
      failing,
    ]);
    expect(refunds[0].sent).toBe('3');
  });
});
