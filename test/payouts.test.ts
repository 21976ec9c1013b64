import { Client as PgClient } from 'pg';
import {
  startTestStack,
  subgraphSocket,
  type TestStack,
  errorCode,
  ok,
  TEST_CALLBACK_TOKEN,
  TEST_INTERNAL_TOKEN,
} from './support/e2e';
import { eventually } from './support/eventually';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import { type Caller, identityHeaders } from '../lib/internal-auth';
import { newId } from '../lib/ids';
import { withDatabase } from '../lib/database';
import { createAddress } from '../subgraphs/order/test-support';
import { PAYOUT_SETTLE_PATH } from '../lib/contracts/seller';

const FACTORY = DEMO_FACTORIES[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
/** Verified like every demo factory, and never given a payout account here. */
const OTHER_FACTORY = DEMO_FACTORIES[1];
const OTHER_OWNER: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
const PRODUCT = DEMO_PRODUCTS.find((product) => product.factoryId === FACTORY.id)!;
const SALE = 10 * 50_000;

const REQUEST_PAYOUT = `mutation ($input: RequestPayoutInput!) {
  requestPayout(input: $input) { id status amount channelCode accountNumberMasked failureCode createdAt }
}`;
const SET_ACCOUNT = `mutation ($input: SetPayoutAccountInput!) {
  setPayoutAccount(input: $input) { channelCode accountHolderName accountNumberMasked }
}`;
const FACTORY_MONEY = `query ($id: ID!) { factory(id: $id) {
  payoutAccount { channelCode accountHolderName accountNumberMasked }
  balance { pending available inPayout paidOut commission currency }
} }`;
const PAYOUTS = `query ($id: ID!) { factory(id: $id) {
  payouts(first: 50) { totalCount edges { node { id status amount channelCode accountNumberMasked failureCode } } }
} }`;

interface Balance {
  pending: number;
  available: number;
  inPayout: number;
  paidOut: number;
  commission: number;
  currency: string;
}

/**
 * Payouts end to end (settlement, payment's ledger, the Xendit sandbox, callbacks through the gateway): the
 * factory earns its money through a real group-buying session (joined, paid, produced, escrow released), then
 * sets its payout account and is paid out. Callbacks are Xendit's (the sandbox's), except the forged ones.
 */
describe('payouts', () => {
  let stack: TestStack;
  let settlementDb: PgClient;

  const gql = (query: string, variables: Record<string, unknown>, caller?: Caller) =>
    stack.graphql(query, variables, caller ? { caller } : undefined);
  /** A callback as Xendit posts it, at the public gateway. */
  const postCallback = async (body: unknown, token = TEST_CALLBACK_TOKEN, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.gatewayUrl}/api/webhooks/xendit/payout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-callback-token': token, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const settlementRows = async (sql: string, params: unknown[] = []) => (await settlementDb.query(sql, params)).rows;

  const money = async (factoryId: string = FACTORY.id, caller = OWNER) =>
    ok(await gql(FACTORY_MONEY, { id: factoryId }, caller)).factory as {
      payoutAccount: { channelCode: string; accountHolderName: string; accountNumberMasked: string } | null;
      balance: Balance | null;
    };
  const balance = async () => (await money()).balance!;
  const payoutsOf = async (factoryId: string = FACTORY.id) =>
    ok(await gql(PAYOUTS, { id: factoryId }, OWNER)).factory.payouts as {
      totalCount: number;
      edges: { node: { id: string; status: string; amount: number; failureCode: string | null } }[];
    };
  const payoutStatus = async (id: string) => (await payoutsOf()).edges.find((edge) => edge.node.id === id)?.node;
  const waitStatus = (id: string, status: string, timeoutMs = 20_000) =>
    eventually(`payout ${id} ${status}`, async () => (await payoutStatus(id))?.status === status, timeoutMs);
  const requestPayout = (amount: number, idempotencyKey?: string, caller = OWNER, factoryId: string = FACTORY.id) =>
    gql(REQUEST_PAYOUT, { input: { factoryId, amount, ...(idempotencyKey ? { idempotencyKey } : {}) } }, caller);
  const setAccount = (input: Record<string, unknown>, caller = OWNER) =>
    gql(SET_ACCOUNT, { input: { factoryId: FACTORY.id, accountHolderName: 'Budi Santoso', ...input } }, caller);
  const sandboxPayouts = async (filter: string) =>
    (await stack.sandbox('GET', `/__sandbox/xendit/payouts?${filter}`)).body.payouts as {
      payout: { id: string; status: string; amount: number };
    }[];
  /** The types of the owner's in-app notices whose text mentions `fragment`. */
  const noticesOf = async (fragment: string) =>
    (
      ok(await gql(`{ myNotifications(first: 50) { edges { node { type body } } } }`, {}, OWNER)).myNotifications
        .edges as { node: { type: string; body: string } }[]
    )
      .filter((edge) => edge.node.body.includes(fragment))
      .map((edge) => edge.node.type);
  const expectLedgerBalanced = async () =>
    expect((await stack.internal('payment', 'GET', '/api/payments/ledger/invariants')).body).toMatchObject({
      ok: true,
    });

  /** The factory earns SALE (less commission) through a group-buying session: joined, paid, produced, released. */
  async function earnThroughGroupBuying(): Promise<void> {
    const buyer: Caller = { userId: newId(), role: 'BUYER' };
    const addressId = await createAddress(stack, buyer);
    const variant = PRODUCT.variants[0];
    const sessionId = ok(
      await gql(
        `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
        {
          input: {
            productId: PRODUCT.id,
            variantId: variant.id,
            moq: 10,
            groupPrice: SALE / 10,
            endsAt: new Date(Date.now() + 6000).toISOString(),
          },
        },
        OWNER,
      ),
    ).createGroupBuyingSession.id;
    const joined = ok(
      await gql(
        `mutation ($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { paymentUrl } }`,
        { input: { sessionId, quantity: 10, addressId } },
        buyer,
      ),
    ).joinGroupBuyingSession;
    expect((await stack.payInvoice(joined.paymentUrl)).callback.status).toBe(200);
    const status = async () =>
      ok(await gql(`query ($id: ID!) { groupBuyingSession(id: $id) { status } }`, { id: sessionId })).groupBuyingSession
        .status;
    await eventually('MOQ_REACHED', async () => (await status()) === 'MOQ_REACHED', 30_000);
    // Production may start once the bulk orders are placed (CONFLICT until then).
    await eventually('production started', async () => {
      const started = await gql(
        `mutation ($id: ID!) { startProduction(sessionId: $id) { status } }`,
        { id: sessionId },
        OWNER,
      );
      if (started.errors && errorCode(started) !== 'CONFLICT') throw new Error(JSON.stringify(started.errors));
      return started.data?.startProduction;
    });
    ok(await gql(`mutation ($id: ID!) { completeProduction(sessionId: $id) { status } }`, { id: sessionId }, OWNER));
  }

  beforeAll(async () => {
    stack = await startTestStack({
      // auth: notification reaches the owner on WhatsApp too, by the phone auth has.
      subgraphs: [
        'auth',
        'product',
        'factory',
        'address',
        'payment',
        'notification',
        'order',
        'group-buying',
        'settlement',
      ],
      sandbox: true,
      env: {
        PAYOUT_RECONCILE_MS: '300',
        // Long enough that callbacks (after SANDBOX_PAYOUT_DELAY_MS) come first unless they are lost.
        PAYOUT_CALLBACK_GRACE_MS: '4000',
        SANDBOX_PAYOUT_DELAY_MS: '300',
      },
    });
    settlementDb = new PgClient({
      connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_settlement`),
    });
    await settlementDb.connect();
    await earnThroughGroupBuying();
  }, 120_000);

  afterAll(async () => {
    await settlementDb?.end();
    await stack?.stop();
  });

  it('has the released sale, less commission, available', async () => {
    const commission = Math.floor((SALE * 300) / 10_000);
    expect(await balance()).toEqual({
      pending: 0,
      available: SALE - commission,
      inPayout: 0,
      paidOut: 0,
      commission,
      currency: 'IDR',
    });
  });

  it('sets a payout account for the owner only, validated against the channel list, masked in every read', async () => {
    const stranger: Caller = { userId: newId(), role: 'BUYER' };
    expect(errorCode(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }, stranger))).toBe(
      'FORBIDDEN',
    );
    for (const bad of [
      { channelCode: 'ID_NOPE', accountNumber: '1234567890' },
      { channelCode: 'US_CHASE', accountNumber: '1234567890' },
      { channelCode: 'ID_BCA', accountNumber: '1234-5678' },
      { channelCode: 'ID_BCA', accountNumber: '123' },
      { channelCode: 'ID_BCA', accountNumber: '1234567890', accountHolderName: '   ' },
    ]) {
      expect({ bad, code: errorCode(await setAccount(bad)) }).toEqual({ bad, code: 'BAD_USER_INPUT' });
    }
    expect((await money()).payoutAccount).toBeNull();

    const set = await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' });
    expect(JSON.stringify(set)).not.toContain('1234567890');
    expect(ok(set).setPayoutAccount).toEqual({
      channelCode: 'ID_BCA',
      accountHolderName: 'Budi Santoso',
      accountNumberMasked: '******7890',
    });
    const read = await gql(FACTORY_MONEY, { id: FACTORY.id }, OWNER);
    expect(JSON.stringify(read)).not.toContain('1234567890');
    expect(ok(read).factory.payoutAccount.accountNumberMasked).toBe('******7890');
    // Another owner, a buyer and nobody see neither the account nor the money.
    for (const caller of [OTHER_OWNER, stranger, undefined]) {
      expect(ok(await gql(FACTORY_MONEY, { id: FACTORY.id }, caller)).factory).toEqual({
        payoutAccount: null,
        balance: null,
      });
    }
    expect(errorCode(await gql(PAYOUTS, { id: FACTORY.id }, stranger))).toBe('FORBIDDEN');
    const channels = ok(await gql(`{ payoutChannels { code name kind } }`, {})).payoutChannels;
    expect(channels).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'ID_BCA', kind: 'BANK' }),
        expect.objectContaining({ code: 'ID_OVO', kind: 'EWALLET' }),
      ]),
    );
  });

  it('refuses payouts of an unverified factory, without an account, below the minimum or above the available money', async () => {
    // A new factory: its owner may set its account at once (ownership is asked, not read from the role).
    const newOwner: Caller = { userId: newId(), role: 'BUYER' };
    const created = ok(
      await gql(
        `mutation { createFactory(input: { name: "Konveksi Baru", city: "Depok" }) { id verified } }`,
        {},
        newOwner,
      ),
    ).createFactory;
    expect(created.verified).toBe(false);
    ok(
      await gql(
        SET_ACCOUNT,
        {
          input: {
            factoryId: created.id,
            channelCode: 'ID_DANA',
            accountNumber: '081234567890',
            accountHolderName: 'Rina',
          },
        },
        newOwner,
      ),
    );
    expect(errorCode(await requestPayout(20_000, undefined, newOwner, created.id))).toBe('FORBIDDEN');

    const before = await balance();
    expect(errorCode(await requestPayout(20_000, undefined, OTHER_OWNER))).toBe('FORBIDDEN');
    expect(errorCode(await requestPayout(20_000, undefined, OTHER_OWNER, OTHER_FACTORY.id))).toBe('BAD_USER_INPUT');
    expect(errorCode(await requestPayout(9_999))).toBe('BAD_USER_INPUT');
    expect(errorCode(await requestPayout(before.available + 1))).toBe('BAD_USER_INPUT');
    expect(errorCode(await requestPayout(before.available + 1, 'too-much'))).toBe('BAD_USER_INPUT');

    // Nothing stored, nothing moved, nothing sent.
    expect(await settlementRows('select id from payouts')).toEqual([]);
    expect((await payoutsOf()).totalCount).toBe(0);
    expect(await balance()).toEqual(before);
    expect(await sandboxPayouts('')).toEqual([]);
  });

  it('pays out through Xendit: the callback at the gateway settles it, replays change nothing, and the same key is the same payout', async () => {
    // The owner watches the factory's payouts live (payoutUpdated, straight at settlement as the gateway asks it).
    const watched: string[] = [];
    const socket = subgraphSocket(stack, 'settlement', {
      internalToken: TEST_INTERNAL_TOKEN,
      ...identityHeaders(OWNER),
    });
    const unsubscribe = socket.subscribe<{ payoutUpdated: { status: string } }>(
      {
        query: `subscription ($id: ID!) { payoutUpdated(factoryId: $id) { id status } }`,
        variables: { id: FACTORY.id },
      },
      {
        next: (event) => void watched.push(event.data!.payoutUpdated.status),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    const before = await balance();
    const payout = ok(await requestPayout(20_000, 'first-payout')).requestPayout;
    expect(payout).toMatchObject({
      status: 'ACCEPTED',
      amount: 20_000,
      channelCode: 'ID_BCA',
      accountNumberMasked: '******7890',
      failureCode: null,
    });
    // The same key is the same payout; the same key for another amount is a mistake.
    expect(ok(await requestPayout(20_000, 'first-payout')).requestPayout.id).toBe(payout.id);
    expect(errorCode(await requestPayout(30_000, 'first-payout'))).toBe('CONFLICT');

    await waitStatus(payout.id, 'SUCCEEDED');
    await eventually('paid out', async () => (await balance()).paidOut === before.paidOut + 20_000);
    expect(await balance()).toEqual({
      ...before,
      available: before.available - 20_000,
      inPayout: 0,
      paidOut: before.paidOut + 20_000,
    });
    const [applied] = await settlementRows(
      `select dedupe_key, outcome from webhook_events where payout_id = $1 and status = 'SUCCEEDED'`,
      [payout.id],
    );
    expect(applied).toMatchObject({ outcome: 'APPLIED', dedupe_key: expect.stringMatching(/^webhook:/) });
    expect(await sandboxPayouts(`reference_id=${payout.id}`)).toHaveLength(1);

    // Xendit delivering the same event again (same webhook-id) is a duplicate: nothing moves.
    const redelivered = await stack.sandbox(
      'POST',
      `/__sandbox/xendit/payouts/${encodeURIComponent(
        (await sandboxPayouts(`reference_id=${payout.id}`))[0].payout.id,
      )}/callback`,
    );
    expect(redelivered.body.callback).toMatchObject({ status: 200, body: { outcome: 'DUPLICATE' } });

    // A forged FAILED without the right token is refused and changes nothing.
    const xenditId = (await sandboxPayouts(`reference_id=${payout.id}`))[0].payout.id;
    const forged = {
      event: 'payout.failed',
      data: { id: xenditId, reference_id: payout.id, status: 'FAILED', amount: 20_000, currency: 'IDR' },
    };
    expect((await postCallback(forged, 'wrong-token-0123456789')).status).toBe(401);
    expect((await postCallback(forged, '')).status).toBe(401);
    // With the token, FAILED after SUCCEEDED is not a legal move: ignored.
    expect(await postCallback(forged)).toEqual({ status: 200, body: { outcome: 'IGNORED' } });
    expect((await payoutStatus(payout.id))?.status).toBe('SUCCEEDED');
    expect(await balance()).toMatchObject({ available: before.available - 20_000, paidOut: before.paidOut + 20_000 });

    // The bank returns it (REVERSED after SUCCEEDED is legal): the money is available again.
    await stack.sandbox('POST', `/__sandbox/xendit/payouts/${encodeURIComponent(xenditId)}/reverse`);
    await waitStatus(payout.id, 'REVERSED');
    await eventually('reversal booked', async () => (await balance()).available === before.available);
    expect(await balance()).toEqual(before);
    await eventually('the owner told', async () => (await noticesOf('Rp 20.000')).includes('PAYOUT_SUCCEEDED'));
    // graphql-ws does not acknowledge a subscribe, so ACCEPTED may have come before it listened.
    await eventually('REVERSED seen live', async () => watched.includes('REVERSED'));
    expect(watched.filter((status) => status !== 'ACCEPTED')).toEqual(['SUCCEEDED', 'REVERSED']);
    unsubscribe();
    await socket.dispose();
    // Nobody else may watch them.
    const strangerSocket = subgraphSocket(stack, 'settlement', {
      internalToken: TEST_INTERNAL_TOKEN,
      ...identityHeaders({ userId: newId(), role: 'BUYER' }),
    });
    const refused = await new Promise<unknown>((resolve) =>
      strangerSocket.subscribe(
        { query: `subscription ($id: ID!) { payoutUpdated(factoryId: $id) { id } }`, variables: { id: FACTORY.id } },
        { next: resolve, error: resolve, complete: () => undefined },
      ),
    );
    expect(JSON.stringify(refused)).toContain('FORBIDDEN');
    await strangerSocket.dispose();
    await expectLedgerBalanced();
  });

  it('fails a payout to an account ending in 000 and makes its money available again', async () => {
    ok(await setAccount({ channelCode: 'ID_BNI', accountNumber: '9876540000' }));
    const before = await balance();
    const payout = ok(await requestPayout(15_000)).requestPayout;
    expect(payout).toMatchObject({ channelCode: 'ID_BNI', accountNumberMasked: '******0000' });
    await waitStatus(payout.id, 'FAILED');
    expect((await payoutStatus(payout.id))?.failureCode).toBe('INVALID_DESTINATION');
    await eventually('the owner told', async () => (await noticesOf('Rp 15.000')).includes('PAYOUT_FAILED'));
    await eventually('money back', async () => (await balance()).available === before.available);
    expect(await balance()).toEqual(before);

    // A late SUCCEEDED for a FAILED payout is ignored: the money is not paid out twice.
    const [remote] = await sandboxPayouts(`reference_id=${payout.id}`);
    const late = {
      event: 'payout.succeeded',
      data: { id: remote.payout.id, reference_id: payout.id, status: 'SUCCEEDED', amount: 15_000, currency: 'IDR' },
    };
    expect(await postCallback(late)).toEqual({ status: 200, body: { outcome: 'IGNORED' } });
    expect((await payoutStatus(payout.id))?.status).toBe('FAILED');
    expect(await balance()).toEqual(before);
  });

  it('does not pay twice when the process dies after Xendit accepted the payout', async () => {
    ok(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }));
    const before = await balance();
    // Xendit makes the payout at once but its answer is late; its outcome's callback waits.
    expect((await stack.sandbox('POST', '/__sandbox/xendit/payout-callbacks/hold')).status).toBeLessThan(300);
    expect(
      (await stack.sandbox('POST', '/__sandbox/xendit/slowdowns', { delayMs: 5000, path: 'payouts', when: 'after' }))
        .status,
    ).toBe(204);
    const answer = requestPayout(12_000, 'crash-payout');
    await eventually('the payout made at Xendit', async () =>
      (await sandboxPayouts('')).some((record) => record.payout.amount === 12_000),
    );
    await stack.stack.kill('settlement');
    expect((await answer).errors).toBeDefined();

    // Restarted, settlement resumes the REQUESTED payout with the same idempotency key: Xendit answers the same one.
    await stack.stack.startOne('settlement', { HTTP_TIMEOUT_MS: '1000' });
    const [row] = await settlementRows(`select id from payouts where idempotency_key = 'crash-payout'`);
    await eventually('resumed', async () => ['ACCEPTED', 'SUCCEEDED'].includes((await payoutStatus(row.id))!.status));
    expect((await sandboxPayouts('')).filter((record) => record.payout.amount === 12_000)).toHaveLength(1);
    expect(ok(await requestPayout(12_000, 'crash-payout')).requestPayout.id).toBe(row.id);

    expect((await stack.sandbox('POST', '/__sandbox/xendit/payout-callbacks/release')).status).toBe(200);
    await waitStatus(row.id, 'SUCCEEDED');
    await eventually('paid out once', async () => (await balance()).paidOut === before.paidOut + 12_000);
    expect(await balance()).toEqual({
      ...before,
      available: before.available - 12_000,
      paidOut: before.paidOut + 12_000,
    });
    expect(await sandboxPayouts(`reference_id=${row.id}`)).toHaveLength(1);
  });

  it('fails a payout Xendit refuses, and resumes one Xendit could not answer', async () => {
    ok(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }));
    const before = await balance();
    await stack.sandbox('POST', '/__sandbox/xendit/faults', { status: 400, path: 'payouts' });
    const refused = ok(await requestPayout(13_000)).requestPayout;
    expect(refused).toMatchObject({ status: 'FAILED', failureCode: 'API_VALIDATION_ERROR' });
    await eventually('money back', async () => (await balance()).available === before.available);

    await stack.sandbox('POST', '/__sandbox/xendit/faults', { status: 503, path: 'payouts' });
    const pending = ok(await requestPayout(14_000)).requestPayout;
    expect(pending.status).toBe('REQUESTED');
    expect(await balance()).toMatchObject({ available: before.available - 14_000, inPayout: 14_000 });
    // Resumed after twice HTTP_TIMEOUT_MS with the same idempotency key.
    await waitStatus(pending.id, 'SUCCEEDED', 40_000);
    expect(await sandboxPayouts(`reference_id=${pending.id}`)).toHaveLength(1);
    await eventually('paid out', async () => (await balance()).paidOut === before.paidOut + 14_000);
  });

  it('settles a payout whose callback never comes from Xendit (poll fallback)', async () => {
    ok(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }));
    const before = await balance();
    expect((await stack.sandbox('POST', '/__sandbox/xendit/payout-callbacks/lose', { count: 1 })).status).toBe(204);
    const payout = ok(await requestPayout(11_000)).requestPayout;
    await waitStatus(payout.id, 'SUCCEEDED', 30_000);
    const events = await settlementRows(`select outcome, payload from webhook_events where payout_id = $1`, [
      payout.id,
    ]);
    expect(events).toEqual([
      expect.objectContaining({ outcome: 'APPLIED', payload: expect.objectContaining({ reconciled: true }) }),
    ]);
    await eventually('paid out', async () => (await balance()).paidOut === before.paidOut + 11_000);
    await expectLedgerBalanced();
  });
  it('returns the money of a payout cancelled at Xendit (no callback: the poll finds it)', async () => {
    // Xendit's test account number that stays ACCEPTED, so the payout can still be cancelled.
    ok(await setAccount({ channelCode: 'ID_MANDIRI', accountNumber: '131313' }));
    const before = await balance();
    const payout = ok(await requestPayout(16_000)).requestPayout;
    expect(payout.status).toBe('ACCEPTED');
    const [remote] = await sandboxPayouts(`reference_id=${payout.id}`);
    expect(
      (await stack.sandbox('POST', `/v2/payouts/${encodeURIComponent(remote.payout.id)}/cancel`)).body.status,
    ).toBe('CANCELLED');
    await waitStatus(payout.id, 'CANCELLED', 30_000);
    await eventually('money back', async () => (await balance()).available === before.available);
    expect(await balance()).toEqual(before);
  });

  it('books a reversal that reaches payment before its success (payment down in between): no dead letter', async () => {
    ok(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }));
    const before = await balance();
    expect((await stack.sandbox('POST', '/__sandbox/xendit/payout-callbacks/hold')).status).toBeLessThan(300);
    const payout = ok(await requestPayout(13_000)).requestPayout;
    await stack.stack.kill('payment');

    // SUCCEEDED, then REVERSED at settlement while payment is down: both wait in settlement's outbox.
    expect((await stack.sandbox('POST', '/__sandbox/xendit/payout-callbacks/release')).status).toBe(200);
    await waitStatus(payout.id, 'SUCCEEDED');
    const [remote] = await sandboxPayouts(`reference_id=${payout.id}`);
    await stack.sandbox('POST', `/__sandbox/xendit/payouts/${encodeURIComponent(remote.payout.id)}/reverse`);
    await waitStatus(payout.id, 'REVERSED');
    const settleMessages = () =>
      settlementRows(
        `select body->>'outcome' as outcome, delivered_at, dead_at from outbox
          where service = 'payment' and path = $1 and body->>'payoutId' = $2 order by body->>'outcome' desc`,
        [PAYOUT_SETTLE_PATH, payout.id],
      );
    expect((await settleMessages()).map((message) => message.outcome)).toEqual(['SUCCEEDED', 'REVERSED']);
    // The retried SUCCEEDED comes after the REVERSED, as the outbox's backoff can order them.
    await settlementRows(
      `update outbox set next_attempt_at = now() + interval '1 hour' where path = $1 and body->>'payoutId' = $2 and body->>'outcome' = 'SUCCEEDED'`,
      [PAYOUT_SETTLE_PATH, payout.id],
    );
    await settlementRows(
      `update outbox set next_attempt_at = now() where path = $1 and body->>'payoutId' = $2 and body->>'outcome' = 'REVERSED'`,
      [PAYOUT_SETTLE_PATH, payout.id],
    );
    await stack.stack.startOne('payment');
    await eventually('REVERSED delivered', async () => (await settleMessages())[1].delivered_at !== null, 30_000);
    // Payment booked it as paid out and reversed: the factory's money is as before the payout.
    expect(await balance()).toEqual(before);

    await settlementRows(
      `update outbox set next_attempt_at = now() where path = $1 and body->>'payoutId' = $2 and body->>'outcome' = 'SUCCEEDED'`,
      [PAYOUT_SETTLE_PATH, payout.id],
    );
    await eventually('SUCCEEDED delivered', async () => (await settleMessages())[0].delivered_at !== null, 30_000);
    expect((await settleMessages()).map((message) => message.dead_at)).toEqual([null, null]);
    expect(await balance()).toEqual(before);
    await expectLedgerBalanced();
  });

  it('makes one payout of concurrent requests with the same key, and never pays out more than available', async () => {
    ok(await setAccount({ channelCode: 'ID_BCA', accountNumber: '1234567890' }));
    const twins = await Promise.all([requestPayout(10_000, 'twin'), requestPayout(10_000, 'twin')]);
    const [first, second] = twins.map((answer) => ok(answer).requestPayout.id);
    expect(second).toBe(first);
    await waitStatus(first, 'SUCCEEDED');
    expect(await sandboxPayouts(`reference_id=${first}`)).toHaveLength(1);

    await eventually('settled', async () => (await balance()).inPayout === 0);
    const before = await balance();
    const each = Math.floor(before.available / 2);
    const answers = await Promise.all([1, 2, 3].map(() => requestPayout(each)));
    expect(answers.map((answer) => errorCode(answer) ?? 'OK').sort()).toEqual(['BAD_USER_INPUT', 'OK', 'OK']);
    const [{ n }] = await settlementRows('select count(*)::int as n from payouts where amount = $1', [each]);
    expect(n).toBe(2);
    for (const answer of answers.filter((a) => !a.errors)) await waitStatus(answer.data.requestPayout.id, 'SUCCEEDED');
    await eventually('paid out', async () => (await balance()).paidOut === before.paidOut + 2 * each);
    expect(await balance()).toEqual({
      ...before,
      available: before.available - 2 * each,
      paidOut: before.paidOut + 2 * each,
    });
    await expectLedgerBalanced();
  });
});
