import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from '../lib/database';
import { startBenchStack } from './bench-stack';
import { newId } from '../lib/ids';

/**
 * `npm run bench:webhooks`: Xendit PAID callbacks per second through the gateway shim into payment
 * (token check, dedupe insert, claim, ledger group, outbox rows in one transaction), next to a bare POST
 * to a do-nothing endpoint of the same payment process. Loopback only; bounded in count and time.
 * BENCH_CALLBACKS (distinct invoices, default 500), BENCH_DUPLICATES (default 200), BENCH_CONCURRENCY (default 16).
 */
const DISTINCT = Math.min(Number(process.env.BENCH_CALLBACKS ?? 500), 5000);
const DUPLICATES = Math.min(Number(process.env.BENCH_DUPLICATES ?? 200), 5000);
const CONCURRENCY = Math.min(Number(process.env.BENCH_CONCURRENCY ?? 16), 64);
const DEADLINE_MS = 120_000;
const INTERNAL_TOKEN = `bench-internal-${randomBytes(6).toString('hex')}`;
const CALLBACK_TOKEN = `bench-callback-${randomBytes(6).toString('hex')}`;

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
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
}

async function main() {
  const bench = await startBenchStack({
    subgraphs: ['payment', 'notification'],
    gateway: true,
    env: { INTERNAL_TOKEN, XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN, SEED_DEMO_DATA: 'false' },
  });
  const { stack } = bench;
  const db = new Client({ connectionString: withDatabase(bench.serverUrl, `${bench.prefix}_payment`) });
  try {
    await db.connect();

    // Pending payments with invoices, written directly: the benchmark is about callbacks, not invoice creation.
    const invoices = Array.from({ length: DISTINCT }, (_, i) => ({
      paymentId: newId(),
      invoiceId: `bench-inv-${i}-${randomBytes(4).toString('hex')}`,
    }));
    for (const { paymentId, invoiceId } of invoices) {
      await db.query(
        `insert into payments (id, user_id, order_id, factory_id, is_in_escrow, amount, description, invoice_id, invoice_url)
         values ($1, $2, $3, $4, false, 150000, 'bench', $5, 'http://localhost/checkout')`,
        [paymentId, newId(), newId(), newId(), invoiceId],
      );
    }
    const bodies = invoices.map(({ paymentId, invoiceId }) =>
      JSON.stringify({
        id: invoiceId,
        external_id: paymentId,
        status: 'PAID',
        amount: 150000,
        paid_amount: 150000,
        currency: 'IDR',
      }),
    );
    const webhook = `${stack.urlOf('gateway')}/api/webhooks/xendit/invoice`;
    const callbackHeaders = { 'x-callback-token': CALLBACK_TOKEN };
    const noop = `${stack.urlOf('payment')}/api/webhooks/noop`;
    const noopHeaders = { 'x-internal-token': INTERNAL_TOKEN };

    await runBounded(50, () => post(noop, '{}', noopHeaders)); // warm-up
    const noopRate = await runBounded(DISTINCT, () => post(noop, bodies[0], noopHeaders));
    const callbackRate = await runBounded(DISTINCT, (i) => post(webhook, bodies[i], callbackHeaders));
    const duplicateRate = await runBounded(DUPLICATES, (i) => post(webhook, bodies[i % DISTINCT], callbackHeaders));

    const [{ paid }] = (await db.query(`select count(*)::int as paid from payments where status = 'PAID'`)).rows;
    const [{ groups }] = (await db.query('select count(distinct group_id)::int as groups from transaction_ledger'))
      .rows;
    const invariants = (await (
      await fetch(`${stack.urlOf('payment')}/api/payments/ledger/invariants`, { headers: noopHeaders })
    ).json()) as { ok: boolean };
    if (paid !== DISTINCT || groups !== DISTINCT || !invariants.ok) {
      throw new Error(`wrong effect: ${paid} paid, ${groups} ledger groups, invariants ${JSON.stringify(invariants)}`);
    }

    const row = (name: string, rate: number) =>
      `${name.padEnd(44)} ${rate.toFixed(0).padStart(7)} /s   ${(rate / noopRate).toFixed(3)}× no-op`;
    console.log(
      `webhooks benchmark: ${DISTINCT} distinct + ${DUPLICATES} duplicate PAID callbacks, concurrency ${CONCURRENCY}`,
    );
    console.log(row('no-op POST on payment (baseline)', noopRate));
    console.log(row('PAID callbacks via gateway (first delivery)', callbackRate));
    console.log(row('PAID callbacks via gateway (duplicates)', duplicateRate));
    console.log(`effect checked: ${paid} payments PAID, ${groups} ledger groups, invariants ok`);
  } finally {
    await db.end().catch(() => undefined);
    await bench.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
