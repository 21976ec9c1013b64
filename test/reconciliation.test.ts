import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { startTestStack, type TestStack, ok } from './support/e2e';
import { eventually } from './support/eventually';
import { scrapeMetrics, sumOf } from './support/metrics';
import { DEMO_FACTORIES, DEMO_OWNERS } from '../lib/demo-data';
import type { Caller } from '../lib/internal-auth';
import { newId } from '../lib/ids';
import { withDatabase } from '../lib/database';
import { RECONCILIATION_PATH, type ReconciliationReport } from '../lib/contracts/reconciliation';

const FACTORY = DEMO_FACTORIES[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const ROOT = path.join(__dirname, '..');

/**
 * Reconciliation end to end: real payment, settlement and factory processes, the Xendit sandbox and callbacks
 * through the gateway. Money moves the ordinary way (escrow paid and released, a session refunded, a regular order
 * paid, a payout made) and reconciles clean; then Xendit and the ledger are made to disagree in three ways (a refund
 * made at Xendit by hand, a PAID callback lost, a payout row tampered with) and each is reported with its ids, by
 * the endpoint, the log, the gauge and `npm run reconcile`.
 */
describe('reconciliation against Xendit', () => {
  let stack: TestStack;
  let paymentDb: PgClient;
  let settlementDb: PgClient;
  const started = new Date(Date.now() - 60_000).toISOString();
  const window = () => `from=${started}&to=${new Date(Date.now() + 60_000).toISOString()}`;

  const reconcile = async (query = window()) => stack.internal('payment', 'GET', `${RECONCILIATION_PATH}?${query}`);
  const report = async () => {
    const { status, body } = await reconcile();
    expect(status).toBe(200);
    return body as ReconciliationReport;
  };
  const rows = async (db: PgClient, sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
  /** `npm run reconcile` as an operator runs it, against this stack. */
  const runScript = (...args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/reconcile.ts', ...args],
        { cwd: ROOT, env: { ...process.env, ...stack.env, LOG_LEVEL: 'silent' } },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });

  const escrowPayment = async (sessionId: string, amount: number) => {
    const { status, body } = await stack.internal('payment', 'POST', '/api/payments/escrow', {
      sessionId,
      participantId: newId(),
      userId: newId(),
      factoryId: FACTORY.id,
      amount,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      description: 'Group buy',
      refundTo: 'ORIGINAL_METHOD',
    });
    expect(status).toBe(200);
    return body as { id: string; invoiceUrl: string };
  };
  const invoiceIdOf = (invoiceUrl: string) => invoiceUrl.split('/').pop()!;
  const paymentStatus = async (id: string) =>
    (await rows(paymentDb, 'select status from payments where id = $1', [id]))[0]?.status;

  let releasedPayment: { id: string; invoiceUrl: string };
  let refundedPayment: { id: string; invoiceUrl: string };
  let regularPayment: { id: string; invoiceUrl: string };
  let payoutId: string;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['payment', 'settlement', 'factory'],
      sandbox: true,
      env: { SANDBOX_PAYOUT_DELAY_MS: '200' },
    });
    const connect = async (name: string) => {
      const db = new PgClient({
        connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_${name}`),
      });
      await db.connect();
      return db;
    };
    paymentDb = await connect('payment');
    settlementDb = await connect('settlement');

    // Escrow paid and released: the factory's money to pay out.
    const releasedSession = newId();
    releasedPayment = await escrowPayment(releasedSession, 400_000);
    expect((await stack.payInvoice(releasedPayment.invoiceUrl)).callback.status).toBe(200);
    expect(
      (await stack.internal('payment', 'POST', '/api/payments/release-escrow', { sessionId: releasedSession })).body,
    ).toEqual({ released: 1 });

    // Escrow paid and refunded to the card: a refund at Xendit and its callback.
    const refundedSession = newId();
    refundedPayment = await escrowPayment(refundedSession, 150_000);
    expect((await stack.payInvoice(refundedPayment.invoiceUrl)).callback.status).toBe(200);
    expect(
      (await stack.internal('payment', 'POST', '/api/payments/refund-session', { sessionId: refundedSession })).status,
    ).toBe(200);

    // A regular order paid.
    const regular = await stack.internal('payment', 'POST', '/api/payments', {
      orderId: newId(),
      userId: newId(),
      factoryId: FACTORY.id,
      amount: 75_000,
      description: 'Order of 3 mugs',
    });
    regularPayment = regular.body;
    expect((await stack.payInvoice(regularPayment.invoiceUrl)).callback.status).toBe(200);

    // A payout of part of the released money, through settlement and Xendit Payouts.
    ok(
      await stack.graphql(
        `mutation ($input: SetPayoutAccountInput!) { setPayoutAccount(input: $input) { channelCode } }`,
        {
          input: {
            factoryId: FACTORY.id,
            channelCode: 'ID_BCA',
            accountNumber: '1234567890',
            accountHolderName: 'Budi',
          },
        },
        { caller: OWNER },
      ),
    );
    payoutId = ok(
      await stack.graphql(
        `mutation ($input: RequestPayoutInput!) { requestPayout(input: $input) { id } }`,
        { input: { factoryId: FACTORY.id, amount: 200_000 } },
        { caller: OWNER },
      ),
    ).requestPayout.id;

    await eventually('the refund to succeed', async () => (await paymentStatus(refundedPayment.id)) === 'REFUNDED');
    await eventually('the payout to be paid out in the ledger', async () => {
      const [payout] = await rows(settlementDb, 'select status from payouts where id = $1', [payoutId]);
      const booked = await rows(
        paymentDb,
        `select 1 from transaction_ledger where payout_id = $1 and kind = 'PAYOUT_SUCCEEDED'`,
        [payoutId],
      );
      return payout?.status === 'SUCCEEDED' && booked.length > 0;
    });
  }, 180_000);

  afterAll(async () => {
    await paymentDb?.end();
    await settlementDb?.end();
    await stack?.stop();
  });

  it('finds Xendit and the ledger in agreement after ordinary payments, refunds and payouts', async () => {
    expect(await report()).toMatchObject({
      ok: true,
      checked: { invoices: 3, refunds: 1, payouts: 1 },
      mismatches: [],
    });
    const script = await runScript('--since', '1h');
    expect(script).toMatchObject({ code: 0 });
    expect(script.stdout).toContain('checked: 3 paid invoices, 1 refunds, 1 payouts');
    expect(script.stdout).toContain('no mismatches');
    expect(sumOf(await scrapeMetrics(stack.serviceUrl('payment')), 'reconciliation_mismatches')).toBe(0);
  });

  it('is internal, clean over a window with nothing in it, and refuses a window that is not one', async () => {
    const anonymous = await fetch(`${stack.serviceUrl('payment')}${RECONCILIATION_PATH}?${window()}`);
    expect(anonymous.status).toBe(401);
    const settlement = await fetch(`${stack.serviceUrl('settlement')}/internal/reconciliation/payouts`);
    expect(settlement.status).toBe(401);
    // A window before any of it: nothing to compare, and clean.
    expect((await reconcile('from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z')).body).toMatchObject({
      ok: true,
      checked: { invoices: 0, refunds: 0, payouts: 0 },
    });
    for (const query of ['from=yesterday', `from=${new Date().toISOString()}&to=${started}`]) {
      const refused = await reconcile(query);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('BAD_USER_INPUT');
    }
  });

  it('reports a refund made at Xendit, a PAID callback lost and a tampered payout, each with its ids', async () => {
    // A refund someone made in Xendit's dashboard: money left that no refund here accounts for.
    const manual = await stack.sandbox('POST', '/refunds', {
      invoice_id: invoiceIdOf(regularPayment.invoiceUrl),
      amount: 5_000,
      reason: 'OTHERS',
    });
    expect(manual.status).toBe(200);
    // A buyer paid, and the callback never arrived: Xendit holds money the ledger never captured.
    const unnoticed = await escrowPayment(newId(), 60_000);
    expect((await stack.sandbox('POST', '/__sandbox/xendit/invoice-callbacks/lose', { count: 1 })).status).toBe(204);
    expect((await stack.payInvoice(unnoticed.invoiceUrl)).callback.status).toBeNull();
    // A payout row changed by hand: its amount no longer what Xendit paid nor what the ledger moved.
    await settlementDb.query('update payouts set amount = amount + 1 where id = $1', [payoutId]);

    const found = await report();
    expect(found.ok).toBe(false);
    expect(found.mismatches).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'REFUND_UNKNOWN', id: manual.body.id, xenditId: manual.body.id }),
        expect.objectContaining({
          kind: 'INVOICE_NOT_CAPTURED',
          id: unnoticed.id,
          xenditId: invoiceIdOf(unnoticed.invoiceUrl),
        }),
        expect.objectContaining({ kind: 'PAYOUT_AMOUNT_DIFFERS', id: payoutId }),
        expect.objectContaining({ kind: 'PAYOUT_LEDGER', id: payoutId }),
      ]),
    );
    expect(found.mismatches).toHaveLength(4);
    // It only reported: the payment is still PENDING, the tampered row as it was left.
    expect(await paymentStatus(unnoticed.id)).toBe('PENDING');

    const samples = await scrapeMetrics(stack.serviceUrl('payment'));
    expect(sumOf(samples, 'reconciliation_mismatches')).toBe(4);
    expect(sumOf(samples, 'reconciliation_mismatches', { kind: 'INVOICE_NOT_CAPTURED' })).toBe(1);
    const log = fs.readFileSync(path.join(stack.logDir, 'payment.log'), 'utf8');
    const errors = log.split('\n').filter((line) => line.includes('"reconciliation mismatch"'));
    expect(errors.some((line) => line.includes(unnoticed.id) && line.includes('"level":50'))).toBe(true);

    const script = await runScript('--since', '1h');
    expect(script.code).toBe(1);
    expect(script.stdout).toContain('4 mismatch(es)');
    for (const id of [manual.body.id, unnoticed.id, payoutId]) expect(script.stdout).toContain(id);
  });
});
