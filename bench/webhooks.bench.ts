import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { withDatabase } from '../lib/database';
import { startBenchStack } from './bench-stack';
import { newId } from '../lib/ids';
import { factoryBalancePath, orderDeliveredPath, PAYOUT_RESERVE_PATH } from '../lib/contracts/seller';
import { SANDBOX_BUSINESS_ID } from '../sandbox/xendit-account';
import type { PayoutCallbackBody } from '../sandbox/xendit-payouts';

/**
 * `npm run bench:webhooks`: Xendit callbacks per second through the gateway shim, next to a baseline: the same
 * POSTs to a do-nothing Express route with the callbacks' raw body parsing, in a process of its own
 * (bench/baseline-server.ts), so the rows say what the callbacks' work costs beyond HTTP and Express. PAID
 * invoice callbacks into payment (token check, dedupe insert, claim, ledger group, outbox rows in one
 * transaction); then payout.succeeded callbacks into settlement (token check, dedupe by webhook-id, claim
 * ACCEPTED → SUCCEEDED, outbox message to payment and owner notice in one transaction), each payout made from one of those payments' money. Loopback only; bounded in count and time.
 * BENCH_CALLBACKS (distinct invoices and payouts, default 500), BENCH_DUPLICATES (default 200),
 * BENCH_CONCURRENCY (default 16).
 */
const DISTINCT = Math.min(Number(process.env.BENCH_CALLBACKS ?? 500), 5000);
const DUPLICATES = Math.min(Number(process.env.BENCH_DUPLICATES ?? 200), 5000);
const CONCURRENCY = Math.min(Number(process.env.BENCH_CONCURRENCY ?? 16), 64);
const DEADLINE_MS = 120_000;
const INTERNAL_TOKEN = `bench-internal-${randomBytes(6).toString('hex')}`;
const CALLBACK_TOKEN = `bench-callback-${randomBytes(6).toString('hex')}`;
const PAYMENT_AMOUNT = 150000;
/** Below what each delivered payment leaves the factory after commission. */
const PAYOUT_AMOUNT = 100000;

async function runBounded(count: number, work: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (performance.now() - started > DEADLINE_MS) throw new Error('benchmark exceeded its time limit');
      await work(next++);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A payout.succeeded callback as the sandbox (and Xendit) sends it. */
function payoutSucceeded(payout: { id: string; xenditPayoutId: string }): string {
  const now = new Date().toISOString();
  const body: PayoutCallbackBody = {
    event: 'payout.succeeded',
    business_id: SANDBOX_BUSINESS_ID,
    created: now,
    data: {
      id: payout.xenditPayoutId,
      reference_id: payout.id,
      idempotency_key: payout.id,
      business_id: SANDBOX_BUSINESS_ID,
      channel_code: 'ID_BCA',
      channel_properties: { account_number: '1234567890', account_holder_name: 'PT Bench' },
      amount: PAYOUT_AMOUNT,
      currency: 'IDR',
      description: `Payout ${payout.id}`,
      status: 'SUCCEEDED',
      created: now,
      updated: now,
      estimated_arrival_time: now,
    },
  };
  return JSON.stringify(body);
}

/** Starts bench/baseline-server.ts and answers its URL. */
async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(path.join(__dirname, 'baseline-server.ts'), { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the baseline server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}/`, child };
}

async function main() {
  const baseline = await startBaseline();
  const bench = await startBenchStack({
    subgraphs: ['payment', 'notification', 'settlement'],
    gateway: true,
    env: { INTERNAL_TOKEN, XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN, SEED_DEMO_DATA: 'false' },
  });
  const { stack } = bench;
  const db = new Client({ connectionString: withDatabase(bench.serverUrl, `${bench.prefix}_payment`) });
  // A pool: the payouts are set up concurrently.
  const settlementDb = new Pool({
    connectionString: withDatabase(bench.serverUrl, `${bench.prefix}_settlement`),
    max: 8,
  });
  try {
    await db.connect();

    // Pending payments with invoices, written directly: the benchmark is about callbacks, not invoice creation.
    const invoices = Array.from({ length: DISTINCT }, (_, i) => ({
      paymentId: newId(),
      orderId: newId(),
      factoryId: newId(),
      invoiceId: `bench-inv-${i}-${randomBytes(4).toString('hex')}`,
    }));
    for (const { paymentId, orderId, factoryId, invoiceId } of invoices) {
      await db.query(
        `insert into payments (id, user_id, order_id, factory_id, is_in_escrow, amount, description, invoice_id, invoice_url)
         values ($1, $2, $3, $4, false, $5, 'bench', $6, 'http://localhost/checkout')`,
        [paymentId, newId(), orderId, factoryId, PAYMENT_AMOUNT, invoiceId],
      );
    }
    const bodies = invoices.map(({ paymentId, invoiceId }) =>
      JSON.stringify({
        id: invoiceId,
        external_id: paymentId,
        status: 'PAID',
        amount: PAYMENT_AMOUNT,
        paid_amount: PAYMENT_AMOUNT,
        currency: 'IDR',
      }),
    );
    const webhook = `${stack.urlOf('gateway')}/api/webhooks/xendit/invoice`;
    const callbackHeaders = { 'x-callback-token': CALLBACK_TOKEN };
    const internalHeaders = { 'x-internal-token': INTERNAL_TOKEN };

    await runBounded(50, () => post(baseline.url, '{}', {})); // warm-up
    const baselineRate = await runBounded(DISTINCT, () => post(baseline.url, bodies[0], callbackHeaders));
    const callbackRate = await runBounded(DISTINCT, (i) => post(webhook, bodies[i], callbackHeaders));
    const duplicateRate = await runBounded(DUPLICATES, (i) => post(webhook, bodies[i % DISTINCT], callbackHeaders));

    const [{ paid }] = (await db.query(`select count(*)::int as paid from payments where status = 'PAID'`)).rows;
    const [{ groups }] = (await db.query('select count(distinct group_id)::int as groups from transaction_ledger'))
      .rows;
    const invariants = (await (
      await fetch(`${stack.urlOf('payment')}/api/payments/ledger/invariants`, { headers: internalHeaders })
    ).json()) as { ok: boolean };
    if (paid !== DISTINCT || groups !== DISTINCT || !invariants.ok) {
      throw new Error(`wrong effect: ${paid} paid, ${groups} ledger groups, invariants ${JSON.stringify(invariants)}`);
    }

    // Payouts ACCEPTED at Xendit, one per paid order's factory, with their money reserved at payment the way
    // settlement reserves it: the order is delivered (its money becomes the factory's), then the payout reserved.
    const internal = async (path: string, body?: unknown) => {
      const response = await fetch(`${stack.urlOf('payment')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...internalHeaders },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    };
    const payouts = invoices.map(({ orderId, factoryId }, i) => ({
      id: newId(),
      orderId,
      factoryId,
      xenditPayoutId: `disb-bench-${i}-${randomBytes(4).toString('hex')}`,
    }));
    await runBounded(DISTINCT, async (i) => {
      const payout = payouts[i];
      await internal(orderDeliveredPath(payout.orderId));
      await internal(PAYOUT_RESERVE_PATH, { payoutId: payout.id, factoryId: payout.factoryId, amount: PAYOUT_AMOUNT });
      await settlementDb.query(
        `insert into payouts (id, factory_id, requested_by, amount, channel_code, account_number, account_holder_name,
                              status, xendit_payout_id, reserved_at, accepted_at)
         values ($1, $2, $3, $4, 'ID_BCA', '1234567890', 'PT Bench', 'ACCEPTED', $5, now(), now())`,
        [payout.id, payout.factoryId, newId(), PAYOUT_AMOUNT, payout.xenditPayoutId],
      );
    });
    const payoutBodies = payouts.map(payoutSucceeded);
    const payoutWebhook = `${stack.urlOf('gateway')}/api/webhooks/xendit/payout`;
    const payoutHeaders = (i: number) => ({ ...callbackHeaders, 'webhook-id': `bench-whk-${payouts[i].id}` });
    const payoutRate = await runBounded(DISTINCT, (i) => post(payoutWebhook, payoutBodies[i], payoutHeaders(i)));
    const payoutDuplicateRate = await runBounded(DUPLICATES, (i) =>
      post(payoutWebhook, payoutBodies[i % DISTINCT], payoutHeaders(i % DISTINCT)),
    );

    const [{ succeeded }] = (
      await settlementDb.query(`select count(*)::int as succeeded from payouts where status = 'SUCCEEDED'`)
    ).rows;
    const [{ applied }] = (
      await settlementDb.query(`select count(*)::int as applied from webhook_events where outcome = 'APPLIED'`)
    ).rows;
    if (succeeded !== DISTINCT || applied !== DISTINCT) {
      throw new Error(`wrong payout effect: ${succeeded} payouts SUCCEEDED, ${applied} callbacks applied`);
    }
    // Settlement books each outcome at payment through its outbox, after the callback was answered.
    await waitUntil(async () => {
      const { rows } = await settlementDb.query(
        `select count(*)::int as waiting from outbox where service = 'payment' and delivered_at is null`,
      );
      return rows[0].waiting === 0;
    }, 'settlement to book every payout at payment');
    const balance = (await (
      await fetch(`${stack.urlOf('payment')}${factoryBalancePath(payouts[0].factoryId)}`, { headers: internalHeaders })
    ).json()) as { paidOut: number; inPayout: number };
    const payoutInvariants = (await (
      await fetch(`${stack.urlOf('payment')}/api/payments/ledger/invariants`, { headers: internalHeaders })
    ).json()) as { ok: boolean };
    if (balance.paidOut !== PAYOUT_AMOUNT || balance.inPayout !== 0 || !payoutInvariants.ok) {
      throw new Error(
        `wrong payout booking: balance ${JSON.stringify(balance)}, invariants ${JSON.stringify(payoutInvariants)}`,
      );
    }

    const row = (name: string, rate: number) =>
      `${name.padEnd(44)} ${rate.toFixed(0).padStart(7)} /s   ${(rate / baselineRate).toFixed(3)}× baseline`;
    console.log(
      `webhooks benchmark: ${DISTINCT} distinct + ${DUPLICATES} duplicate PAID and payout.succeeded callbacks, concurrency ${CONCURRENCY}`,
    );
    console.log(row('baseline: do-nothing Express POST, raw body', baselineRate));
    console.log(row('PAID callbacks via gateway (first delivery)', callbackRate));
    console.log(row('PAID callbacks via gateway (duplicates)', duplicateRate));
    console.log(row('payout.succeeded via gateway (first delivery)', payoutRate));
    console.log(row('payout.succeeded via gateway (duplicates)', payoutDuplicateRate));
    console.log(`effect checked: ${paid} payments PAID, ${groups} ledger groups, invariants ok`);
    console.log(`payout effect checked: ${succeeded} payouts SUCCEEDED and booked as paid out, invariants ok`);
  } finally {
    await settlementDb.end().catch(() => undefined);
    await db.end().catch(() => undefined);
    await bench.stop();
    baseline.child.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
