import type { Client } from 'graphql-ws';
import {
  startTestStack,
  subgraphSocket,
  type TestStack,
  errorCode,
  type GraphQLResponse,
  outliveCaller,
  statusHistoryOf,
  TEST_INTERNAL_TOKEN,
} from '../../test/support/e2e';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import type { SubgraphName } from '../../lib/services';
import { newId } from '../../lib/ids';
import { freePort } from '../../test/support/ports';
import { eventually } from '../../test/support/eventually';
import { Client as PgClient } from 'pg';
import { withDatabase } from '../../lib/database';

const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const OTHER_OWNER: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
const PRODUCT = DEMO_PRODUCTS[0]; // made by DEMO_FACTORIES[0], owned by OWNER
const VARIANT = PRODUCT.variants[0];

const SESSION_FIELDS =
  'id status moq groupPrice endsAt maxQuantity paidQuantity joinedQuantity participantsCount progressPercent';

interface Buyer {
  caller: Caller;
  addressId: string;
}

describe('group-buying subgraph end to end', () => {
  let stack: TestStack;
  let ws: Client;
  let db: PgClient;
  const sessionHistory = (sessionId: string) =>
    statusHistoryOf(db, 'group_buying_session_status_history', 'session_id', sessionId);

  const gql = async (query: string, variables: Record<string, unknown>, caller?: Caller): Promise<GraphQLResponse> =>
    stack.graphql(query, variables, caller ? { caller } : undefined);

  /** Straight to one subgraph, as the gateway would call it (fields the supergraph may not route yet). */
  const subgraphGql = async (name: SubgraphName, query: string, variables: Record<string, unknown>, caller: Caller) => {
    const response = await fetch(`${stack.serviceUrl(name)}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
        ...identityHeaders(caller),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  };

  const ok = <T = any>(result: GraphQLResponse<T>): T => {
    if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };

  async function newBuyer(): Promise<Buyer> {
    const caller: Caller = { userId: newId(), role: 'BUYER' };
    const data = ok(
      await gql(
        `mutation ($input: CreateAddressInput!) { createAddress(input: $input) { id } }`,
        {
          input: {
            recipientName: 'Pembeli',
            phone: '081234567890',
            line1: 'Jl. Merdeka 1',
            city: 'Bandung',
            province: 'Jawa Barat',
            postalCode: '40111',
          },
        },
        caller,
      ),
    );
    return { caller, addressId: data.createAddress.id };
  }

  async function newBuyers(count: number): Promise<Buyer[]> {
    const buyers: Buyer[] = [];
    for (let i = 0; i < count; i += 25)
      buyers.push(...(await Promise.all(Array.from({ length: Math.min(25, count - i) }, newBuyer))));
    return buyers;
  }

  const createSession = (input: Record<string, unknown>, caller: Caller = OWNER) =>
    gql(
      `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { ${SESSION_FIELDS} product { id } variant { id } factory { id } } }`,
      { input },
      caller,
    );

  async function openSession(endsInMs: number, moq: number, maxQuantity?: number): Promise<string> {
    const data = ok(
      await createSession({
        productId: PRODUCT.id,
        variantId: VARIANT.id,
        moq,
        groupPrice: 40000,
        endsAt: new Date(Date.now() + endsInMs).toISOString(),
        maxQuantity,
      }),
    );
    return data.createGroupBuyingSession.id;
  }

  const join = (buyer: Buyer, sessionId: string, quantity: number, addressId = buyer.addressId) =>
    gql(
      `mutation ($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { participant { id quantity status } payment { id invoiceUrl } paymentUrl } }`,
      { input: { sessionId, quantity, addressId } },
      buyer.caller,
    );

  const invoiceIdOf = (paymentUrl: string) => paymentUrl.split('/').pop()!;

  const sessionAs = async (sessionId: string, caller?: Caller) =>
    ok(
      await gql(
        `query ($id: ID!) { groupBuyingSession(id: $id) { ${SESSION_FIELDS} myParticipation { id quantity status } } }`,
        { id: sessionId },
        caller,
      ),
    ).groupBuyingSession;

  const waitForStatus = (sessionId: string, status: string, timeoutMs?: number) =>
    eventually(
      `session ${sessionId} ${status}`,
      async () => {
        const session = await sessionAs(sessionId);
        return session.status === status && session;
      },
      timeoutMs,
    );

  const sandboxRefunds = async (paymentUrl: string): Promise<unknown[]> =>
    (await (await fetch(`${stack.sandboxUrl}/__sandbox/xendit/refunds?invoiceId=${invoiceIdOf(paymentUrl)}`)).json())
      .refunds;

  /** Events of the subgraph's own subscription, as the gateway receives them. */
  function watch(sessionId: string): { events: any[]; errors: unknown[]; stop: () => void } {
    const events: any[] = [];
    const errors: unknown[] = [];
    const stop = ws.subscribe(
      {
        query: `subscription ($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { id status paidQuantity joinedQuantity participantsCount progressPercent } }`,
        variables: { id: sessionId },
      },
      {
        next: (message) =>
          message.errors ? errors.push(...message.errors) : events.push(message.data!.groupBuyingSessionProgress),
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    return { events, errors, stop };
  }

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['product', 'factory', 'address', 'payment', 'notification', 'order', 'logistics', 'group-buying'],
      sandbox: true,
      // One buyer joins 20 sessions before paying (the unpaid limit itself: test/holds-and-settlement.test.ts).
      env: { MAX_UNPAID_ORDERS: '20' },
    });
    ws = subgraphSocket(stack, 'group-buying');
    db = new PgClient({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_group_buying`),
    });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await ws?.dispose();
    await db?.end();
    await stack?.stop();
  });

  it('happy path: MOQ reached, bulk orders in escrow, production completed and escrow released', async () => {
    const buyers = await newBuyers(3);
    const sessionId = await openSession(8000, 10);
    const progress = watch(sessionId);
    await new Promise((resolve) => setTimeout(resolve, 500)); // graphql-ws does not acknowledge a subscribe

    const joins = await Promise.all([
      join(buyers[0], sessionId, 4),
      join(buyers[1], sessionId, 4),
      join(buyers[2], sessionId, 3),
    ]);
    const payloads = joins.map((result) => ok(result).joinGroupBuyingSession);
    for (const [i, payload] of payloads.entries()) {
      expect(payload.participant).toMatchObject({ quantity: [4, 4, 3][i], status: 'PENDING_PAYMENT' });
      expect(payload.paymentUrl).toBe(payload.payment.invoiceUrl);
    }
    expect(await sessionAs(sessionId)).toMatchObject({
      joinedQuantity: 11,
      paidQuantity: 0,
      participantsCount: 3,
      progressPercent: 0,
    });

    for (const payload of payloads) await stack.payInvoice(payload.paymentUrl);
    const paid = await eventually('all three payments', async () => {
      const session = await sessionAs(sessionId, buyers[0].caller);
      return session.paidQuantity === 11 && session;
    });
    expect(paid).toMatchObject({
      status: 'FORMING',
      progressPercent: 100,
      myParticipation: { quantity: 4, status: 'PAID' },
    });

    await waitForStatus(sessionId, 'MOQ_REACHED', 20_000);
    // Orders are placed right after the flip; each buyer's place becomes ORDERED.
    for (const buyer of buyers) {
      await eventually(
        'the bulk order',
        async () => (await sessionAs(sessionId, buyer.caller)).myParticipation.status === 'ORDERED',
      );
    }
    const orders = await Promise.all(
      buyers.map(async (buyer) => {
        const data = ok(
          await subgraphGql(
            'order',
            `{ myOrders(first: 10) { edges { node { id source status } } } }`,
            {},
            buyer.caller,
          ),
        );
        return data.myOrders.edges.map((edge: any) => edge.node);
      }),
    );
    expect(orders.map((list) => list.length)).toEqual([1, 1, 1]);
    for (const [order] of orders) {
      expect(order.source).toBe('GROUP_BUYING');
      const payment = await eventually('the order linked to its payment', async () => {
        const response = await stack.internal('payment', 'GET', `/api/payments/by-order/${order.id}`);
        return response.status === 200 && response.body;
      });
      expect(payment).toMatchObject({ isInEscrow: true, escrowStatus: 'HELD', status: 'PAID' });
    }

    ok(await gql(`mutation ($id: ID!) { startProduction(sessionId: $id) { status } }`, { id: sessionId }, OWNER));
    const completed = ok(
      await gql(`mutation ($id: ID!) { completeProduction(sessionId: $id) { status } }`, { id: sessionId }, OWNER),
    );
    expect(completed.completeProduction.status).toBe('COMPLETED');
    for (const [order] of orders) {
      const response = await stack.internal('payment', 'GET', `/api/payments/by-order/${order.id}`);
      expect(response.body.escrowStatus).toBe('RELEASED');
    }
    const invariants = await stack.internal('payment', 'GET', '/api/payments/ledger/invariants');
    expect(invariants.body.ok).toBe(true);
    for (const buyer of buyers) {
      await eventually('the shipment', async () => {
        const data = ok(
          await gql(`{ myOrders(first: 5) { edges { node { shipment { id status } } } } }`, {}, buyer.caller),
        );
        return data.myOrders.edges[0]?.node.shipment?.status === 'PENDING';
      });
      const notifications = ok(
        await gql(`{ myNotifications(first: 20) { edges { node { type } } } }`, {}, buyer.caller),
      );
      const types = notifications.myNotifications.edges.map((edge: any) => edge.node.type);
      expect(types.filter((type: string) => type === 'SESSION_MOQ_REACHED')).toHaveLength(1);
    }

    await eventually('the COMPLETED event', async () => progress.events.some((event) => event.status === 'COMPLETED'));
    progress.stop();
    expect(progress.errors).toEqual([]);
    // One event per payment, each with the paid quantity at its commit.
    const paidSteps = progress.events.filter((event) => event.status === 'FORMING').map((event) => event.paidQuantity);
    expect(paidSteps).toHaveLength(3);
    expect(Math.max(...paidSteps)).toBe(11);
    expect(progress.events.filter((event) => event.status !== 'FORMING').map((event) => event.status)).toEqual([
      'MOQ_REACHED',
      'IN_PRODUCTION',
      'COMPLETED',
    ]);
    expect(progress.events.find((event) => event.status === 'MOQ_REACHED')).toMatchObject({
      paidQuantity: 11,
      progressPercent: 100,
    });
  });

  it('sad path: MOQ missed → FAILED, paid buyers refunded once, the unpaid invoice expired', async () => {
    const [a, b, c] = await newBuyers(3);
    const sessionId = await openSession(5000, 10);
    const [joinA, joinB, joinC] = (
      await Promise.all([join(a, sessionId, 3), join(b, sessionId, 2), join(c, sessionId, 1)])
    ).map((result) => ok(result).joinGroupBuyingSession);
    await stack.payInvoice(joinA.paymentUrl);
    await stack.payInvoice(joinB.paymentUrl);

    await waitForStatus(sessionId, 'FAILED', 20_000);
    for (const buyer of [a, b]) {
      await eventually(
        'the refund',
        async () => (await sessionAs(sessionId, buyer.caller)).myParticipation.status === 'REFUNDED',
      );
    }
    await eventually(
      'the unpaid place to expire',
      async () => (await sessionAs(sessionId, c.caller)).myParticipation.status === 'EXPIRED',
    );
    for (const buyer of [a, b, c]) {
      await eventually('the SESSION_FAILED notification', async () => {
        const data = ok(await gql(`{ myNotifications(first: 20) { edges { node { type } } } }`, {}, buyer.caller));
        return data.myNotifications.edges.some((edge: any) => edge.node.type === 'SESSION_FAILED');
      });
    }
    expect(await sandboxRefunds(joinA.paymentUrl)).toHaveLength(1);
    expect(await sandboxRefunds(joinB.paymentUrl)).toHaveLength(1);
    expect(await sandboxRefunds(joinC.paymentUrl)).toHaveLength(0);
    const invoice = await (
      await fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${invoiceIdOf(joinC.paymentUrl)}`)
    ).json();
    expect(invoice.invoice.status).toBe('EXPIRED');
    expect(await sessionAs(sessionId)).toMatchObject({ paidQuantity: 5, joinedQuantity: 5, participantsCount: 2 });

    // Another sweep changes nothing.
    await stack.internal('group-buying', 'POST', '/api/group-buying/process-expired');
    expect(await sandboxRefunds(joinA.paymentUrl)).toHaveLength(1);
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body.ok).toBe(true);
  });

  it('200 concurrent joins by distinct buyers never exceed maxQuantity', async () => {
    const buyers = await newBuyers(200);
    const sessionId = await openSession(120_000, 10, 100);
    const results = await Promise.all(buyers.map((buyer) => join(buyer, sessionId, 1)));
    const joined = results.filter((result) => !result.errors);
    const refused = results.filter((result) => result.errors);
    expect(refused.every((result) => errorCode(result) === 'BAD_USER_INPUT')).toBe(true);
    const session = await sessionAs(sessionId);
    expect(session.joinedQuantity).toBeLessThanOrEqual(100);
    expect(session.joinedQuantity).toBe(joined.length);
    expect(session.participantsCount).toBe(joined.length);
    expect(joined.length).toBe(100);
  });

  it('20 concurrent joins by one buyer make one place and one payment', async () => {
    const [buyer] = await newBuyers(1);
    const sessionId = await openSession(120_000, 10);
    const results = await Promise.all(Array.from({ length: 20 }, () => join(buyer, sessionId, 2)));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    expect(results.filter((result) => result.errors).map(errorCode)).toEqual(Array(19).fill('CONFLICT'));
    expect(await sessionAs(sessionId)).toMatchObject({ joinedQuantity: 2, participantsCount: 1 });
    const payments = ok(await subgraphGql('payment', `{ myPayments(first: 50) { totalCount } }`, {}, buyer.caller));
    expect(payments.myPayments.totalCount).toBe(1);
  });

  it('processes each of 20 expired sessions exactly once with two group-buying processes sweeping', async () => {
    const [buyer] = await newBuyers(1);
    // A second process on the same database, as a second replica: two schedulers and two endpoints race.
    const replicaUrl = await stack.stack.startReplica('group-buying', await freePort());
    const sweep = async (baseUrl: string) => {
      const response = await fetch(`${baseUrl}/api/group-buying/process-expired`, {
        method: 'POST',
        headers: { [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN },
      });
      expect(response.status).toBe(200);
    };
    // Even sessions reach their MOQ of 1, odd ones miss their MOQ of 2.
    const sessionIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) => openSession(10_000, i % 2 === 0 ? 1 : 2)),
    );
    const watchers = sessionIds.map(watch);
    const payloads = (await Promise.all(sessionIds.map((sessionId) => join(buyer, sessionId, 1)))).map(
      (result) => ok(result).joinGroupBuyingSession,
    );
    await Promise.all(payloads.map((payload) => stack.payInvoice(payload.paymentUrl)));
    await eventually('every payment', async () => {
      const sessions = await Promise.all(sessionIds.map((id) => sessionAs(id)));
      return sessions.every((session) => session.paidQuantity === 1);
    });

    // Sweep from many callers at once while the scheduler runs too.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => sweep(i % 2 ? replicaUrl : stack.serviceUrl('group-buying'))),
      );
      const sessions = await Promise.all(sessionIds.map((id) => sessionAs(id)));
      if (sessions.every((session) => session.status !== 'FORMING')) break;
    }
    const settled = await Promise.all(
      sessionIds.map((id, i) => waitForStatus(id, i % 2 === 0 ? 'MOQ_REACHED' : 'FAILED')),
    );
    expect(settled).toHaveLength(20);

    for (const [i, payload] of payloads.entries()) {
      if (i % 2 === 1)
        await eventually('the refund', async () => (await sandboxRefunds(payload.paymentUrl)).length > 0);
    }
    await eventually('every bulk order', async () => {
      const data = ok(await subgraphGql('order', `{ myOrders(first: 50) { totalCount } }`, {}, buyer.caller));
      return data.myOrders.totalCount === 10;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // room for any duplicate to show up
    const orders = ok(await subgraphGql('order', `{ myOrders(first: 50) { totalCount } }`, {}, buyer.caller));
    expect(orders.myOrders.totalCount).toBe(10);
    for (const [i, payload] of payloads.entries()) {
      expect(await sandboxRefunds(payload.paymentUrl)).toHaveLength(i % 2 === 1 ? 1 : 0);
    }
    // One status event and one audit row per session: the flip happened once.
    for (const [i, watcher] of watchers.entries()) {
      watcher.stop();
      const outcome = i % 2 === 0 ? 'MOQ_REACHED' : 'FAILED';
      expect(watcher.events.filter((event) => event.status !== 'FORMING').map((event) => event.status)).toEqual([
        outcome,
      ]);
      expect(await sessionHistory(sessionIds[i])).toEqual([
        [null, 'FORMING'],
        ['FORMING', outcome],
      ]);
    }
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body.ok).toBe(true);
  });

  it('finishes a failed session once payment is back, refunding exactly once', async () => {
    const [buyer] = await newBuyers(1);
    const sessionId = await openSession(4000, 5);
    const payload = ok(await join(buyer, sessionId, 2)).joinGroupBuyingSession;
    await stack.payInvoice(payload.paymentUrl);
    await eventually('the payment', async () => (await sessionAs(sessionId)).paidQuantity === 2);

    await stack.stack.kill('payment');
    try {
      await waitForStatus(sessionId, 'FAILED', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 2000)); // a few sweeps fail against the dead service
      expect((await sessionAs(sessionId, buyer.caller)).myParticipation.status).toBe('PAID');
    } finally {
      await stack.stack.startOne('payment');
    }
    await eventually(
      'the refund',
      async () => (await sessionAs(sessionId, buyer.caller)).myParticipation.status === 'REFUNDED',
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await sandboxRefunds(payload.paymentUrl)).toHaveLength(1);
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body.ok).toBe(true);
  });

  it('gives back a join whose escrow invoice came too late, and closes that invoice', async () => {
    const [buyer] = await newBuyers(1);
    const sessionId = await openSession(120_000, 5);
    const restoreGroupBuying = await outliveCaller(stack, 'group-buying');
    const payments = new PgClient({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_payment`),
    });
    await payments.connect();
    try {
      expect(errorCode(await join(buyer, sessionId, 2))).toBe('INTERNAL_SERVER_ERROR');
      expect(await sessionAs(sessionId)).toMatchObject({ joinedQuantity: 0, participantsCount: 0 });

      // Payment went on and made the invoice; the abandon message expires the payment, and the invoice is closed at Xendit too.
      const escrow = await eventually(
        'the abandoned escrow expired',
        async () => {
          const [row] = (
            await payments.query('select status, invoice_id from payments where session_id = $1', [sessionId])
          ).rows;
          return row?.status === 'EXPIRED' && row.invoice_id && row;
        },
        20_000,
      );
      const atXendit = await (await fetch(`${stack.sandboxUrl}/__sandbox/xendit/invoices/${escrow.invoice_id}`)).json();
      expect(atXendit.invoice.status).toBe('EXPIRED');
    } finally {
      await payments.end();
      await restoreGroupBuying();
    }
    // The buyer can join again, normally.
    expect(ok(await join(buyer, sessionId, 2)).joinGroupBuyingSession.participant.quantity).toBe(2);
  });

  it("answers payment's notices about a join that was undone: EXPIRED changes nothing, PAID and REFUNDED are refused for good", async () => {
    // The place was deleted when the join was undone; payment's payment for it lives on and may send notices.
    const notice = (status: string) =>
      stack.internal('group-buying', 'POST', '/api/group-buying/participants/payment-status', {
        participantId: newId(),
        sessionId: newId(),
        paymentId: newId(),
        status,
      });
    expect(await notice('EXPIRED')).toMatchObject({ status: 200, body: { status: 'EXPIRED', changed: false } });
    // 409 is final for an outbox (a dead letter with its reason), where a 404 would be retried for ever.
    for (const status of ['PAID', 'REFUNDED']) {
      expect(await notice(status)).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    }
  });

  it('refuses bad input with the documented codes and writes nothing', async () => {
    const [buyer, other] = await newBuyers(2);
    const future = new Date(Date.now() + 60_000).toISOString();
    const base = { productId: PRODUCT.id, variantId: VARIANT.id, moq: 5, groupPrice: 40000, endsAt: future };

    expect(errorCode(await createSession({ ...base, endsAt: new Date(Date.now() - 1000).toISOString() }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await createSession({ ...base, moq: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await createSession({ ...base, groupPrice: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await createSession({ ...base, maxQuantity: 4 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await createSession({ ...base, variantId: DEMO_PRODUCTS[1].variants[0].id }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await createSession(base, OTHER_OWNER))).toBe('FORBIDDEN');
    expect(errorCode(await createSession(base, buyer.caller))).toBe('FORBIDDEN');
    expect(
      errorCode(
        await gql(
          `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
          { input: base },
        ),
      ),
    ).toBe('UNAUTHENTICATED');

    const sessionId = await openSession(60_000, 5, 10);
    expect(errorCode(await join(buyer, sessionId, 0))).toBe('BAD_USER_INPUT');
    expect(errorCode(await join(buyer, sessionId, 11))).toBe('BAD_USER_INPUT');
    expect(errorCode(await join(buyer, sessionId, 1, other.addressId))).toBe('BAD_USER_INPUT');
    expect(errorCode(await join(buyer, '01930000-0000-7000-8000-00000000ffff', 1))).toBe('NOT_FOUND');
    expect(
      errorCode(
        await gql(`mutation ($id: ID!) { startProduction(sessionId: $id) { status } }`, { id: sessionId }, OTHER_OWNER),
      ),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(
        await gql(`mutation ($id: ID!) { startProduction(sessionId: $id) { status } }`, { id: sessionId }, OWNER),
      ),
    ).toBe('CONFLICT');
    expect(
      errorCode(
        await gql(
          `mutation ($id: ID!) { cancelGroupBuyingSession(sessionId: $id) { status } }`,
          { id: sessionId },
          buyer.caller,
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(await sessionAs(sessionId, buyer.caller)).toMatchObject({
      status: 'FORMING',
      joinedQuantity: 0,
      participantsCount: 0,
      myParticipation: null,
    });

    const cancelled = ok(
      await gql(
        `mutation ($id: ID!) { cancelGroupBuyingSession(sessionId: $id) { status } }`,
        { id: sessionId },
        OWNER,
      ),
    );
    expect(cancelled.cancelGroupBuyingSession.status).toBe('CANCELLED');
    expect(errorCode(await join(buyer, sessionId, 1))).toBe('CONFLICT');

    const ended = await openSession(1500, 5);
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(errorCode(await join(buyer, ended, 1))).toBe('CONFLICT');

    const payments = ok(await subgraphGql('payment', `{ myPayments(first: 5) { totalCount } }`, {}, buyer.caller));
    expect(payments.myPayments.totalCount).toBe(0);
  });

  it('lists sessions and rejects a subscription to an unknown session with NOT_FOUND', async () => {
    const listed = ok(
      await gql(
        `{ groupBuyingSessions(status: FORMING, first: 2) { totalCount edges { node { id status } } pageInfo { hasNextPage } } }`,
        {},
      ),
    );
    expect(listed.groupBuyingSessions.edges.length).toBeLessThanOrEqual(2);
    expect(listed.groupBuyingSessions.edges.every((edge: any) => edge.node.status === 'FORMING')).toBe(true);

    const unknown = watch('01930000-0000-7000-8000-00000000ffff');
    await eventually('the subscription error', async () => unknown.errors.length > 0, 5000);
    expect((unknown.errors[0] as any).extensions?.code).toBe('NOT_FOUND');
  });
});
