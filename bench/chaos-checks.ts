import { Client } from 'pg';
import { withDatabase } from '../lib/database';
import type { SubgraphName } from '../lib/services';
import type { ChaosClient } from './chaos-client';
import {
  RECONCILIATION_PATH,
  RECONCILIATION_TIMEOUT_MS,
  type ReconciliationReport,
} from '../lib/contracts/reconciliation';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was checked (counts), and every offending id when it failed. */
  detail: string;
}

type Row = Record<string, any>;

/** Straight reads of each subgraph's own database (a client per database, opened once). */
export class Databases {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly serverUrl: string,
    private readonly prefix: string,
    readonly names: SubgraphName[],
  ) {}

  async query(name: SubgraphName, sql: string, params: unknown[] = []): Promise<Row[]> {
    let client = this.clients.get(name);
    if (!client) {
      client = new Client({
        connectionString: withDatabase(this.serverUrl, `${this.prefix}_${name.replace(/-/g, '_')}`),
      });
      await client.connect();
      this.clients.set(name, client);
    }
    return (await client.query(sql, params)).rows;
  }

  /** The subgraphs whose database has an outbox. */
  async withOutbox(): Promise<SubgraphName[]> {
    const found: SubgraphName[] = [];
    for (const name of this.names) {
      const [row] = await this.query(name, `select to_regclass('outbox') is not null as present`);
      if (row.present) found.push(name);
    }
    return found;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.end().catch(() => undefined)));
  }
}

/** Work the system still owes: the soak waits until every figure is zero (or its settle time is up). */
export async function pendingWork(db: Databases): Promise<Record<string, number>> {
  const count = async (name: SubgraphName, sql: string) => Number((await db.query(name, sql))[0].n);
  const outbox: Record<string, number> = {};
  for (const name of await db.withOutbox()) {
    outbox[`outbox ${name}`] = await count(
      name,
      'select count(*) as n from outbox where delivered_at is null and dead_at is null',
    );
  }
  return {
    ...outbox,
    'sessions past their end still FORMING': await count(
      'group-buying',
      `select count(*) as n from group_buying_sessions where status = 'FORMING' and ends_at < now()`,
    ),
    'ended sessions not settled': await count(
      'group-buying',
      `select count(*) as n from group_buying_sessions
        where status in ('MOQ_REACHED', 'FAILED', 'CANCELLED') and settlement_state is distinct from 'SETTLED'`,
    ),
    'unpaid joins still held': await count(
      'group-buying',
      `select count(*) as n from group_participants where status = 'PENDING_PAYMENT'`,
    ),
    'unpaid orders still held': await count(
      'order',
      `select count(*) as n from orders where status = 'PENDING_PAYMENT'`,
    ),
    'payments PENDING': await count('payment', `select count(*) as n from payments where status = 'PENDING'`),
    'payments LATE_PAID (refund owed)': await count(
      'payment',
      `select count(*) as n from payments where status = 'LATE_PAID'`,
    ),
    'refunds PENDING': await count('payment', `select count(*) as n from refunds where status = 'PENDING'`),
    'payouts in flight': await count(
      'settlement',
      `select count(*) as n from payouts where status in ('REQUESTED', 'ACCEPTED')`,
    ),
  };
}

const list = (ids: unknown[], max = 10) =>
  ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} … (${ids.length})`;

/**
 * The soak's verdict, read from the databases (and the Xendit sandbox for its side of the money) once the
 * system has settled.
 */
export async function runChecks(
  db: Databases,
  client: ChaosClient,
  invoiceIds: string[],
  since: number,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const check = async (name: string, body: () => Promise<{ ok: boolean; detail: string }>) => {
    try {
      results.push({ name, ...(await body()) });
    } catch (error) {
      results.push({ name, ok: false, detail: `the check itself failed: ${(error as Error).message}` });
    }
  };

  await check('ledger sums to zero and its invariants hold', async () => {
    const [{ sum, entries }] = await db.query(
      'payment',
      'select coalesce(sum(amount), 0) as sum, count(*) as entries from transaction_ledger',
    );
    const unbalanced = (
      await db.query('payment', 'select group_id from transaction_ledger group by group_id having sum(amount) <> 0')
    ).map((r) => r.group_id);
    const [{ escrow }] = await db.query(
      'payment',
      `select coalesce(sum(amount), 0) as escrow from transaction_ledger where account = 'escrow'`,
    );
    const [{ held }] = await db.query(
      'payment',
      `select coalesce(sum(amount), 0) as held from payments where escrow_status = 'HELD'`,
    );
    const wallets = (
      await db.query(
        'wallet',
        `select w.id from wallets w left join wallet_transactions t on t.wallet_id = w.id
          group by w.id, w.balance having w.balance <> coalesce(sum(t.amount), 0) or w.balance < 0`,
      )
    ).map((r) => r.id);
    const invariants = await client.internal('payment', 'GET', '/api/payments/ledger/invariants');
    const ok =
      Number(sum) === 0 &&
      unbalanced.length === 0 &&
      -Number(escrow) === Number(held) &&
      wallets.length === 0 &&
      invariants.body?.ok === true;
    return {
      ok,
      detail:
        `${entries} entries, sum ${sum}, escrow ${-Number(escrow)} = held ${held}; ` +
        (unbalanced.length ? `unbalanced groups: ${list(unbalanced)}; ` : '') +
        (wallets.length ? `wallets off their transactions: ${list(wallets)}; ` : '') +
        (invariants.body?.ok === true
          ? "payment's invariants ok"
          : `payment's invariants: ${JSON.stringify(invariants.body)}`),
    };
  });

  await check('reconciliation against Xendit finds no mismatch', async () => {
    const window = `from=${encodeURIComponent(new Date(since).toISOString())}&to=${encodeURIComponent(new Date().toISOString())}`;
    const answer = await client.internal(
      'payment',
      'GET',
      `${RECONCILIATION_PATH}?${window}`,
      RECONCILIATION_TIMEOUT_MS,
    );
    const report = answer.body as ReconciliationReport | undefined;
    if (answer.status !== 200 || !report)
      return { ok: false, detail: `answered ${answer.status}: ${JSON.stringify(answer.body)}` };
    const { invoices, refunds, payouts } = report.checked;
    return {
      ok: report.ok && report.mismatches.length === 0,
      detail:
        `${invoices} invoices, ${refunds} refunds, ${payouts} payouts compared; ${report.mismatches.length} mismatches` +
        (report.mismatches.length
          ? `:\n        ${report.mismatches
              .slice(0, 20)
              .map((m) => `${m.kind} ${m.id} ${m.xenditId ?? ''}: ${m.detail}`)
              .join('\n        ')}`
          : ''),
    };
  });

  await check('every paid buyer ends in exactly one of: an order, a refund, a wallet credit', async () => {
    const paid = await db.query(
      'payment',
      `select p.id, p.order_id, p.status, r.id as refund_id, r.destination, r.status as refund_status
         from payments p left join refunds r on r.payment_id = p.id
        where p.paid_at is not null`,
    );
    const orders = await db.query(
      'order',
      `select id, payment_id, status from orders where status not in ('CANCELLED', 'REFUNDED', 'PENDING_PAYMENT')`,
    );
    // A payment's live orders: by the order's payment id or the payment's order id, each order once.
    const ordersOf = new Map<string, Set<string>>();
    const byId = new Set(orders.map((o) => o.id));
    for (const order of orders) {
      if (order.payment_id) ordersOf.set(order.payment_id, (ordersOf.get(order.payment_id) ?? new Set()).add(order.id));
    }
    const credits = new Set(
      (await db.query('wallet', `select reference from wallet_transactions where amount > 0`)).map((r) => r.reference),
    );
    const offenders: string[] = [];
    const outcomes = { order: 0, refund: 0, wallet: 0 };
    for (const payment of paid) {
      const mine = new Set(ordersOf.get(payment.id));
      if (payment.order_id && byId.has(payment.order_id)) mine.add(payment.order_id);
      const orderCount = mine.size;
      const refunded = payment.destination === 'ORIGINAL_METHOD' && payment.refund_status === 'SUCCEEDED' ? 1 : 0;
      const credited = payment.destination === 'WALLET' && credits.has(payment.refund_id) ? 1 : 0;
      if (orderCount + refunded + credited !== 1)
        offenders.push(
          `${payment.id} (${payment.status}: orders ${orderCount}, refund ${refunded}, credit ${credited})`,
        );
      else if (orderCount) outcomes.order += 1;
      else if (refunded) outcomes.refund += 1;
      else outcomes.wallet += 1;
    }
    // Xendit's side: an invoice paid there has a payment here that knows it.
    const known = new Set(
      (await db.query('payment', 'select invoice_id from payments where paid_at is not null')).map((r) => r.invoice_id),
    );
    let paidAtXendit = 0;
    for (const invoiceId of invoiceIds) {
      const { invoice } = await client.sandbox<{ invoice: { status: string } }>(
        'GET',
        `/__sandbox/xendit/invoices/${invoiceId}`,
      );
      if (invoice.status !== 'PAID' && invoice.status !== 'SETTLED') continue;
      paidAtXendit += 1;
      if (!known.has(invoiceId)) offenders.push(`invoice ${invoiceId} paid at Xendit, no paid payment here`);
    }
    return {
      ok: offenders.length === 0,
      detail:
        `${paid.length} paid (${paidAtXendit} paid invoices at Xendit): ${outcomes.order} orders, ` +
        `${outcomes.refund} refunds, ${outcomes.wallet} wallet credits` +
        (offenders.length ? `; offenders: ${list(offenders)}` : ''),
    };
  });

  await check('no payment captured, released or refunded twice', async () => {
    const twice = (
      await db.query(
        'payment',
        `select payment_id, kind, count(distinct group_id) as n from transaction_ledger
          where payment_id is not null
            and kind in ('ESCROW_HELD', 'PAYMENT_CAPTURED', 'ESCROW_RELEASED', 'ORDER_DELIVERED', 'REFUND_RESERVED',
                         'REFUND_SETTLED', 'WALLET_CREDITED')
          group by payment_id, kind having count(distinct group_id) > 1`,
      )
    ).map((r) => `${r.payment_id} ${r.kind} ×${r.n}`);
    const releasedAndRefunded = (
      await db.query(
        'payment',
        `select payment_id from transaction_ledger where kind in ('ESCROW_RELEASED', 'ORDER_DELIVERED')
         intersect select payment_id from transaction_ledger where kind = 'REFUND_RESERVED'`,
      )
    ).map((r) => `${r.payment_id} released and refunded`);
    const refunds = await client.sandbox<{
      refunds: { refund: { invoice_id: string; status: string; amount: number } }[];
    }>('GET', '/__sandbox/xendit/refunds');
    const perInvoice = new Map<string, number>();
    for (const { refund } of refunds.refunds) {
      if (refund.status !== 'FAILED') perInvoice.set(refund.invoice_id, (perInvoice.get(refund.invoice_id) ?? 0) + 1);
    }
    const refundedTwiceAtXendit = [...perInvoice]
      .filter(([, n]) => n > 1)
      .map(([id, n]) => `invoice ${id} refunded ×${n}`);
    const payouts = await db.query('settlement', 'select id from payouts');
    const paidTwice: string[] = [];
    for (const { id } of payouts) {
      const atXendit = await client.sandbox<{ payouts: unknown[] }>(
        'GET',
        `/__sandbox/xendit/payouts?reference_id=${id}`,
      );
      if (atXendit.payouts.length > 1) paidTwice.push(`payout ${id} made ×${atXendit.payouts.length} at Xendit`);
    }
    const offenders = [...twice, ...releasedAndRefunded, ...refundedTwiceAtXendit, ...paidTwice];
    return {
      ok: offenders.length === 0,
      detail:
        `${refunds.refunds.length} refunds and ${payouts.length} payouts at Xendit` +
        (offenders.length ? `; offenders: ${list(offenders)}` : ''),
    };
  });

  const participantsOf = (statuses: string) =>
    db.query(
      'group-buying',
      `select p.id, p.status, p.payment_id, s.id as session_id, s.status as session_status
         from group_participants p join group_buying_sessions s on s.id = p.session_id
        where s.status in (${statuses}) and p.paid_at is not null`,
    );

  await check("every FAILED or CANCELLED session's paid participants refunded exactly once", async () => {
    const participants = await participantsOf(`'FAILED', 'CANCELLED'`);
    const refunds = await db.query(
      'payment',
      `select r.payment_id, r.destination, r.status, r.id from refunds r where r.payment_id = any($1::uuid[])`,
      [participants.map((p) => p.payment_id)],
    );
    const credits = new Set(
      (await db.query('wallet', `select reference from wallet_transactions where amount > 0`)).map((r) => r.reference),
    );
    const byPayment = new Map<string, Row[]>();
    for (const refund of refunds)
      byPayment.set(refund.payment_id, [...(byPayment.get(refund.payment_id) ?? []), refund]);
    const offenders = participants
      .filter((p) => {
        const mine = byPayment.get(p.payment_id) ?? [];
        const done = mine.filter((r) => (r.destination === 'WALLET' ? credits.has(r.id) : r.status === 'SUCCEEDED'));
        return p.status !== 'REFUNDED' || mine.length !== 1 || done.length !== 1;
      })
      .map((p) => `${p.id} (${p.status}, session ${p.session_id} ${p.session_status})`);
    const sessions = new Set(participants.map((p) => p.session_id)).size;
    return {
      ok: offenders.length === 0,
      detail: `${participants.length} paid participants in ${sessions} sessions${offenders.length ? `; offenders: ${list(offenders)}` : ''}`,
    };
  });

  await check("every MOQ_REACHED session's paid participants have exactly one order", async () => {
    const participants = await participantsOf(`'MOQ_REACHED', 'IN_PRODUCTION', 'COMPLETED'`);
    const orders = await db.query(
      'order',
      `select participant_id, count(*) as n from orders where participant_id = any($1::uuid[]) group by participant_id`,
      [participants.map((p) => p.id)],
    );
    const count = new Map(orders.map((o) => [o.participant_id, Number(o.n)]));
    const offenders = participants
      .filter((p) => count.get(p.id) !== 1 || !['ORDERED', 'REFUNDED'].includes(p.status))
      .map((p) => `${p.id} (${p.status}, ${count.get(p.id) ?? 0} orders, session ${p.session_id})`);
    const sessions = new Set(participants.map((p) => p.session_id)).size;
    return {
      ok: offenders.length === 0,
      detail: `${participants.length} paid participants in ${sessions} sessions${offenders.length ? `; offenders: ${list(offenders)}` : ''}`,
    };
  });

  await check('no outbox message undelivered except dead letters (listed with their reason)', async () => {
    const undelivered: string[] = [];
    const dead: string[] = [];
    let total = 0;
    for (const name of await db.withOutbox()) {
      const rows = await db.query(
        name,
        `select id, path, dead_at, delivered_at, last_status, last_error from outbox where delivered_at is null`,
      );
      total += Number((await db.query(name, 'select count(*) as n from outbox'))[0].n);
      for (const row of rows) {
        if (row.dead_at)
          dead.push(`${name} ${row.path} ${row.id}: ${row.last_status ?? '-'} ${row.last_error ?? ''}`.trim());
        else undelivered.push(`${name} ${row.path} ${row.id}`);
      }
    }
    return {
      ok: undelivered.length === 0,
      detail:
        `${total} messages; ${undelivered.length} undelivered, ${dead.length} dead letters` +
        (undelivered.length ? `; undelivered: ${list(undelivered)}` : '') +
        (dead.length ? `\n      dead letters:\n        ${dead.join('\n        ')}` : ''),
    };
  });

  await check('no work left behind (holds, sessions, refunds, payouts)', async () => {
    const left = Object.entries(await pendingWork(db)).filter(([name, n]) => n > 0 && !name.startsWith('outbox'));
    return {
      ok: left.length === 0,
      detail: left.length ? left.map(([name, n]) => `${name}: ${n}`).join(', ') : 'nothing pending',
    };
  });

  return results;
}
