import { Gauge } from 'prom-client';
import { XenditSdkError } from 'xendit-node';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../lib/config';
import type { InternalClient } from '../../lib/internal-client';
import type { Logger } from '../../lib/logger';
import { startPeriodicTask } from '../../lib/periodic';
import type { BackgroundTask, SubgraphDeps } from '../../lib/subgraph-server';
import { isId } from '../../lib/ids';
import { parseInput } from '../../lib/validation';
import { withTimeout, xenditClient } from '../../lib/xendit';
import {
  fetchPayoutReconciliation,
  type Mismatch,
  type ReconciliationReport,
  windowSchema,
} from '../../lib/contracts/reconciliation';
import type { LedgerKind, PayoutLedgerKind } from './ledger';
import {
  matchInvoices,
  matchPayoutLedger,
  matchRefunds,
  type PaymentFact,
  type PayoutMovement,
  type RefundFact,
  type XenditInvoiceFact,
  type XenditRefundFact,
} from './reconciliation-rules';

/** What reconciliation reads of Xendit; an interface so the rules can be driven without the network. */
export interface XenditRecords {
  /** Invoices PAID or SETTLED with `paid_at` in the window, every page. */
  paidInvoices(from: Date, to: Date): Promise<XenditInvoiceFact[]>;
  invoice(invoiceId: string): Promise<XenditInvoiceFact | null>;
  /** Refunds created in the window, every page. */
  refunds(from: Date, to: Date): Promise<XenditRefundFact[]>;
  refund(xenditRefundId: string): Promise<XenditRefundFact | null>;
}

/** Xendit's largest page. */
const PAGE = 100;
const CAPTURE_KINDS: LedgerKind[] = ['PAYMENT_CAPTURED', 'ESCROW_HELD', 'LATE_PAYMENT_CAPTURED'];

interface WireRefund {
  id: string;
  reference_id?: string | null;
  amount: number;
  status: string;
  created: string;
}

/**
 * Xendit's lists through xendit-node (invoices: getInvoices by paid-at window, `last_invoice` paging; one invoice:
 * getInvoiceById). Refunds straight from `GET /refunds` and `GET /refunds/{id}`: xendit-node's Refund model drops
 * `status`, which reconciliation compares (../shared/EXTERNAL.md).
 */
export function xenditRecords(config: Config): XenditRecords {
  const invoices = xenditClient(config).Invoice;
  const ms = config.HTTP_TIMEOUT_MS;
  const toInvoice = (invoice: { id?: string; externalId: string; status: string; amount: number }) => ({
    id: invoice.id!,
    externalId: invoice.externalId,
    status: invoice.status,
    amount: invoice.amount,
  });
  const toRefund = (refund: WireRefund): XenditRefundFact => ({
    id: refund.id,
    referenceId: refund.reference_id ?? null,
    amount: refund.amount,
    status: refund.status,
  });
  const refundsApi = async (path: string): Promise<Response> =>
    fetch(`${config.xenditApiUrl}${path}`, {
      headers: { authorization: `Basic ${Buffer.from(`${config.XENDIT_SECRET_KEY}:`).toString('base64')}` },
      signal: AbortSignal.timeout(ms),
    });
  return {
    async paidInvoices(from, to) {
      const found: XenditInvoiceFact[] = [];
      let lastInvoice: string | undefined;
      for (;;) {
        const page = await withTimeout(
          // Xendit's paid_after is exclusive; the window's start is not.
          invoices.getInvoices({
            statuses: ['PAID', 'SETTLED'],
            paidAfter: new Date(from.getTime() - 1),
            paidBefore: to,
            limit: PAGE,
            lastInvoice,
          }),
          ms,
          'getInvoices',
        );
        found.push(...page.map(toInvoice));
        if (page.length < PAGE) return found;
        lastInvoice = page[page.length - 1].id;
      }
    },
    async invoice(invoiceId) {
      try {
        return toInvoice(await withTimeout(invoices.getInvoiceById({ invoiceId }), ms, 'getInvoiceById'));
      } catch (error) {
        if (error instanceof XenditSdkError && Number(error.status) === 404) return null;
        throw error;
      }
    },
    async refunds(from, to) {
      const found: XenditRefundFact[] = [];
      let afterId: string | undefined;
      // Newest first: read on until the page reaches refunds older than the window.
      for (;;) {
        const query = new URLSearchParams({ limit: String(PAGE), ...(afterId ? { after_id: afterId } : {}) });
        const response = await refundsApi(`/refunds?${query}`);
        if (!response.ok) throw new Error(`Xendit list refunds answered ${response.status}`);
        const page = (await response.json()) as { data: WireRefund[]; has_more?: boolean };
        for (const refund of page.data) {
          const created = Date.parse(refund.created);
          if (created >= from.getTime() && created < to.getTime()) found.push(toRefund(refund));
        }
        const last = page.data.at(-1);
        if (!page.has_more || !last || Date.parse(last.created) < from.getTime()) return found;
        afterId = last.id;
      }
    },
    async refund(xenditRefundId) {
      const response = await refundsApi(`/refunds/${encodeURIComponent(xenditRefundId)}`);
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`Xendit getRefund answered ${response.status}`);
      return toRefund((await response.json()) as WireRefund);
    },
  };
}

/** Mismatches the last reconciliation found, by kind (0 for a kind it did not find). */
const mismatchGauge = new Gauge({
  name: 'reconciliation_mismatches',
  help: 'Mismatches between Xendit and the ledger found by the last reconciliation, by kind',
  labelNames: ['kind'],
});
const lastRunGauge = new Gauge({
  name: 'reconciliation_last_run_timestamp_seconds',
  help: 'When the last reconciliation finished (Unix seconds)',
});

export interface ReconciliationDeps {
  xendit: XenditRecords;
  client: InternalClient;
  logger: Logger;
}

/**
 * Payment's reconciliation: Xendit's paid invoices, refunds and (through settlement) payouts of a window against
 * the payments, refunds and ledger, one to one. Reads only: it never changes money; mismatches are reported (log
 * at error, the `reconciliation_mismatches` gauge, the answer) for a person to resolve.
 */
export class ReconciliationService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: ReconciliationDeps,
  ) {}

  async run(input: unknown): Promise<ReconciliationReport> {
    const { from, to } = parseInput(windowSchema, input);
    const invoices = await this.invoices(from, to);
    const refunds = await this.refunds(from, to);
    const payouts = await this.payouts(from, to);
    const mismatches = [...invoices.mismatches, ...refunds.mismatches, ...payouts.mismatches];
    const report: ReconciliationReport = {
      from: from.toISOString(),
      to: to.toISOString(),
      ok: mismatches.length === 0,
      checked: { invoices: invoices.checked, refunds: refunds.checked, payouts: payouts.checked },
      mismatches,
    };
    this.record(report);
    return report;
  }

  private record(report: ReconciliationReport): void {
    mismatchGauge.reset();
    for (const mismatch of report.mismatches) mismatchGauge.inc({ kind: mismatch.kind });
    lastRunGauge.set(Date.now() / 1000);
    const { logger } = this.deps;
    for (const mismatch of report.mismatches) logger.error({ mismatch }, 'reconciliation mismatch');
    const summary = { from: report.from, to: report.to, checked: report.checked, mismatches: report.mismatches.length };
    if (report.ok) logger.info(summary, 'reconciliation clean');
    else logger.error(summary, 'reconciliation found mismatches');
  }

  private sql<T>(text: string, params: unknown[]): Promise<T[]> {
    return this.em.getConnection().execute<T[]>(text, params);
  }

  /** Xendit's paid invoices of the window and the ledger's captures of the window, each looked up on the other side. */
  private async invoices(from: Date, to: Date): Promise<{ checked: number; mismatches: Mismatch[] }> {
    const xendit = await this.deps.xendit.paidInvoices(from, to);
    const captured = await this.sql<{ payment_id: string }>(
      `select distinct payment_id from transaction_ledger where kind in (?) and created_at >= ? and created_at < ?`,
      [CAPTURE_KINDS, from, to],
    );
    const paymentIds = [
      ...new Set([...xendit.map((i) => i.externalId).filter(isId), ...captured.map((c) => c.payment_id)]),
    ];
    const rows = await this.sql<{ id: string; invoice_id: string | null }>(
      `select id, invoice_id from payments where id = any(array[?]::uuid[]) or invoice_id = any(array[?]::text[])`,
      [paymentIds, xendit.map((i) => i.id)],
    );
    const captures = await this.sql<{ payment_id: string; amount: string | number }>(
      `select payment_id, amount from transaction_ledger
        where payment_id = any(array[?]::uuid[]) and kind in (?) and account = 'gateway_clearing' order by id`,
      [rows.map((r) => r.id), CAPTURE_KINDS],
    );
    const capturesOf = amountsOf(captures, (c) => c.payment_id);
    const payments: PaymentFact[] = rows.map((row) => ({
      id: row.id,
      invoiceId: row.invoice_id,
      captures: capturesOf.get(row.id) ?? [],
    }));
    // A capture whose invoice Xendit did not list paid in the window: paid just outside it, or not at all.
    const listed = new Set(xendit.map((invoice) => invoice.id));
    for (const payment of payments) {
      if (payment.captures.length === 0 || !payment.invoiceId || listed.has(payment.invoiceId)) continue;
      const invoice = await this.deps.xendit.invoice(payment.invoiceId);
      if (invoice) xendit.push(invoice);
    }
    return { checked: xendit.length, mismatches: matchInvoices(xendit, payments) };
  }

  /** Xendit's refunds of the window and our refunds to the original method made or completed in it, each matched. */
  private async refunds(from: Date, to: Date): Promise<{ checked: number; mismatches: Mismatch[] }> {
    const xendit = await this.deps.xendit.refunds(from, to);
    const rows = await this.sql<{
      id: string;
      xendit_refund_id: string | null;
      amount: string | number;
      status: string;
      destination: string;
    }>(
      `select id, xendit_refund_id, amount, status, destination from refunds
        where (destination = 'ORIGINAL_METHOD'
               and ((created_at >= ? and created_at < ?) or (completed_at >= ? and completed_at < ?)))
           or xendit_refund_id = any(array[?]::text[]) or id = any(array[?]::uuid[])`,
      [from, to, from, to, xendit.map((r) => r.id), xendit.map((r) => r.referenceId).filter(isId)],
    );
    const settled = await this.sql<{ refund_id: string; amount: string | number }>(
      `select refund_id, amount from transaction_ledger
        where refund_id = any(array[?]::uuid[]) and kind = 'REFUND_SETTLED' and account = 'buyer_refunds' order by id`,
      [rows.map((r) => r.id)],
    );
    const settlementsOf = amountsOf(settled, (s) => s.refund_id);
    const refunds: RefundFact[] = rows.map((row) => ({
      id: row.id,
      xenditRefundId: row.xendit_refund_id,
      amount: Number(row.amount),
      status: row.status,
      destination: row.destination,
      settlements: settlementsOf.get(row.id) ?? [],
    }));
    // A refund of ours Xendit did not list in the window: made at its edge, or not at all.
    const listed = new Set(xendit.map((refund) => refund.id));
    const listedRefs = new Set(xendit.map((refund) => refund.referenceId));
    for (const refund of refunds) {
      if (!refund.xenditRefundId || listed.has(refund.xenditRefundId) || listedRefs.has(refund.id)) continue;
      const remote = await this.deps.xendit.refund(refund.xenditRefundId);
      if (remote) xendit.push(remote);
    }
    return { checked: xendit.length, mismatches: matchRefunds(xendit, refunds) };
  }

  /** Settlement compares its payouts with Xendit's; payment compares its ledger with settlement's payouts. */
  private async payouts(from: Date, to: Date): Promise<{ checked: number; mismatches: Mismatch[] }> {
    const settlement = await fetchPayoutReconciliation(this.deps.client, {
      from: from.toISOString(),
      to: to.toISOString(),
    });
    const rows = await this.sql<{ payout_id: string; kind: PayoutLedgerKind; amount: string | number }>(
      // Every payout movement is a pair: its debit leg carries the amount.
      `select payout_id, kind, amount from transaction_ledger where payout_id = any(array[?]::uuid[]) and amount > 0 order by id`,
      [settlement.payouts.map((p) => p.id)],
    );
    const movements = new Map<string, PayoutMovement[]>();
    for (const row of rows)
      movements.set(row.payout_id, [
        ...(movements.get(row.payout_id) ?? []),
        { kind: row.kind, amount: Number(row.amount) },
      ]);
    return {
      checked: settlement.payouts.length,
      mismatches: [...settlement.mismatches, ...matchPayoutLedger(settlement.payouts, movements)],
    };
  }
}

/** The amounts of ledger rows by the id `keyOf` names, in row order. */
function amountsOf<Row extends { amount: string | number }>(
  rows: Row[],
  keyOf: (row: Row) => string,
): Map<string, number[]> {
  const amounts = new Map<string, number[]>();
  for (const row of rows) amounts.set(keyOf(row), [...(amounts.get(keyOf(row)) ?? []), Number(row.amount)]);
  return amounts;
}

/** How long callbacks and their overdue-callback sweeps may still be on their way. */
function settlingMs(config: Config): number {
  return Math.max(
    config.REFUND_CALLBACK_GRACE_MS + config.REFUND_RECONCILE_MS,
    config.PAYOUT_CALLBACK_GRACE_MS + config.PAYOUT_RECONCILE_MS,
  );
}

/**
 * The window the periodic run owes at `now`: the last whole `RECONCILIATION_MS` interval (counted from the epoch, so
 * daily means UTC days) that ended before what may still be on its way, unless this process has run it already.
 * Counting from the epoch rather than from the start makes a process restarted more often than the interval still
 * reconcile every interval.
 */
export function dueWindow(now: Date, config: Config, lastTo: Date | null): { from: Date; to: Date } | null {
  const interval = config.RECONCILIATION_MS;
  const to = Math.floor((now.getTime() - settlingMs(config)) / interval) * interval;
  if (lastTo && lastTo.getTime() >= to) return null;
  return { from: new Date(to - interval), to: new Date(to) };
}

/** How often the periodic run looks whether a window is due (a comparison, unless one is). */
const DUE_CHECK_MS = 10 * 60_000;

/** The periodic reconciliation (`background`): each due window once per process; a failed run is tried next check. */
export function startPeriodicReconciliation(deps: SubgraphDeps, xendit: XenditRecords): BackgroundTask {
  let lastTo: Date | null = null;
  return startPeriodicTask(
    'reconciliation',
    Math.min(deps.config.RECONCILIATION_MS, DUE_CHECK_MS),
    async () => {
      const due = dueWindow(new Date(), deps.config, lastTo);
      if (!due) return;
      await new ReconciliationService(deps.orm.em.fork(), { xendit, client: deps.client, logger: deps.logger }).run({
        from: due.from.toISOString(),
        to: due.to.toISOString(),
      });
      lastTo = due.to;
    },
    deps.logger,
  );
}
