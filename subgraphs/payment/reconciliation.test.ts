import { loadConfig } from '../../lib/config';
import { windowSchema } from '../../lib/contracts/reconciliation';
import { parseInput } from '../../lib/validation';
import { durationMs, windowOf } from '../../scripts/reconcile';
import { dueWindow } from './reconciliation';
import {
  matchInvoices,
  matchPayoutLedger,
  matchRefunds,
  type PaymentFact,
  type PayoutMovement,
  type RefundFact,
} from './reconciliation-rules';

const PAYMENT = '0193a000-0000-7000-8000-000000000001';
const OTHER = '0193a000-0000-7000-8000-000000000002';
const REFUND = '0193a000-0000-7000-8000-000000000011';
const PAYOUT = '0193a000-0000-7000-8000-000000000021';

const paid = (id: string, externalId: string, amount = 50_000, status = 'PAID') => ({ id, externalId, status, amount });
const payment = (overrides: Partial<PaymentFact> = {}): PaymentFact => ({
  id: PAYMENT,
  invoiceId: 'inv-1',
  captures: [50_000],
  ...overrides,
});
const kinds = (mismatches: { kind: string }[]) => mismatches.map((m) => m.kind);

describe('matchInvoices: every invoice Xendit has paid is exactly one capture here, and back', () => {
  it('is clean when each paid invoice has its one capture of its amount', () => {
    expect(matchInvoices([paid('inv-1', PAYMENT)], [payment()])).toEqual([]);
    // SETTLED is paid too; a payment never captured and never paid is no concern.
    expect(
      matchInvoices(
        [paid('inv-1', PAYMENT, 50_000, 'SETTLED')],
        [payment(), payment({ id: OTHER, invoiceId: 'inv-2', captures: [] })],
      ),
    ).toEqual([]);
  });

  it('reports a paid invoice no payment knows, by its Xendit id', () => {
    expect(matchInvoices([paid('inv-9', 'made-elsewhere')], [])).toEqual([
      { kind: 'INVOICE_UNKNOWN', id: 'inv-9', xenditId: 'inv-9', detail: expect.stringContaining('no payment here') },
    ]);
  });

  it('reports a paid invoice whose payment has no capture (its callback was lost), with both ids', () => {
    expect(matchInvoices([paid('inv-1', PAYMENT)], [payment({ captures: [] })])).toEqual([
      { kind: 'INVOICE_NOT_CAPTURED', id: PAYMENT, xenditId: 'inv-1', detail: expect.any(String) },
    ]);
  });

  it('reports a second paid invoice of one payment: money at Xendit the ledger never took', () => {
    const found = matchInvoices([paid('inv-1', PAYMENT), paid('inv-2', PAYMENT)], [payment()]);
    expect(found).toEqual([expect.objectContaining({ kind: 'INVOICE_NOT_CAPTURED', id: PAYMENT, xenditId: 'inv-2' })]);
  });

  it('reports a capture booked twice or for another amount', () => {
    expect(kinds(matchInvoices([paid('inv-1', PAYMENT)], [payment({ captures: [50_000, 50_000] })]))).toEqual([
      'CAPTURE_DUPLICATED',
    ]);
    expect(matchInvoices([paid('inv-1', PAYMENT)], [payment({ captures: [49_999] })])).toEqual([
      expect.objectContaining({
        kind: 'CAPTURE_AMOUNT_DIFFERS',
        id: PAYMENT,
        detail: expect.stringContaining('49999'),
      }),
    ]);
  });

  it('reports a capture whose invoice Xendit has unpaid or does not have', () => {
    expect(matchInvoices([paid('inv-1', PAYMENT, 50_000, 'EXPIRED')], [payment()])).toEqual([
      expect.objectContaining({ kind: 'CAPTURE_NOT_PAID_AT_XENDIT', id: PAYMENT, xenditId: 'inv-1' }),
    ]);
    expect(matchInvoices([], [payment()])).toEqual([
      expect.objectContaining({ kind: 'CAPTURE_NOT_PAID_AT_XENDIT', id: PAYMENT, xenditId: null }),
    ]);
  });
});

const refund = (overrides: Partial<RefundFact> = {}): RefundFact => ({
  id: REFUND,
  xenditRefundId: 'rfd-1',
  amount: 50_000,
  status: 'SUCCEEDED',
  destination: 'ORIGINAL_METHOD',
  settlements: [50_000],
  ...overrides,
});
const remote = (
  overrides: Partial<{ id: string; referenceId: string | null; amount: number; status: string }> = {},
) => ({
  id: 'rfd-1',
  referenceId: REFUND,
  amount: 50_000,
  status: 'SUCCEEDED',
  ...overrides,
});

describe('matchRefunds: every refund at Xendit is one row here with its amount and status, settled once', () => {
  it('is clean for matching refunds, found by Xendit id or by our id as reference', () => {
    expect(matchRefunds([remote()], [refund()])).toEqual([]);
    // The callback never came and the submit's answer was lost: Xendit's reference id is our refund id.
    expect(
      matchRefunds(
        [remote({ status: 'PENDING' })],
        [refund({ xenditRefundId: null, status: 'PENDING', settlements: [] })],
      ),
    ).toEqual([]);
    // A wallet refund never goes to Xendit.
    expect(matchRefunds([], [refund({ destination: 'WALLET', xenditRefundId: null, settlements: [] })])).toEqual([]);
  });

  it('reports a refund made at Xendit that has no row here, by its Xendit id', () => {
    expect(matchRefunds([remote({ id: 'rfd-x', referenceId: null })], [])).toEqual([
      { kind: 'REFUND_UNKNOWN', id: 'rfd-x', xenditId: 'rfd-x', detail: expect.stringContaining('no refund here') },
    ]);
  });

  it('reports another amount or status, and two Xendit refunds for one row', () => {
    expect(kinds(matchRefunds([remote({ amount: 40_000 })], [refund()]))).toEqual(['REFUND_AMOUNT_DIFFERS']);
    expect(matchRefunds([remote()], [refund({ status: 'PENDING', settlements: [] })])).toEqual([
      expect.objectContaining({ kind: 'REFUND_STATUS_DIFFERS', id: REFUND, xenditId: 'rfd-1' }),
    ]);
    expect(kinds(matchRefunds([remote(), remote({ id: 'rfd-2' })], [refund()]))).toEqual([
      'REFUND_DUPLICATED_AT_XENDIT',
    ]);
  });

  it('reports a refund here that claims Xendit has it when Xendit does not', () => {
    expect(kinds(matchRefunds([], [refund()]))).toEqual(['REFUND_NOT_AT_XENDIT']);
    expect(kinds(matchRefunds([], [refund({ status: 'PENDING', settlements: [] })]))).toEqual(['REFUND_NOT_AT_XENDIT']);
    // Not sent yet: it claims nothing.
    expect(matchRefunds([], [refund({ xenditRefundId: null, status: 'PENDING', settlements: [] })])).toEqual([]);
  });

  it('reports a SUCCEEDED refund settled in the ledger other than exactly once for its amount', () => {
    for (const settlements of [[], [50_000, 50_000], [5_000]])
      expect(kinds(matchRefunds([remote()], [refund({ settlements })]))).toEqual(['REFUND_LEDGER']);
    expect(kinds(matchRefunds([remote({ status: 'FAILED' })], [refund({ status: 'FAILED' })]))).toEqual([
      'REFUND_LEDGER',
    ]);
  });
});

describe('matchPayoutLedger: a payout status is exactly its ledger movements', () => {
  const movements = (...kinds: PayoutMovement['kind'][]) =>
    new Map([[PAYOUT, kinds.map((kind) => ({ kind, amount: 100_000 }))]]);
  const payout = (status: string) => [{ id: PAYOUT, amount: 100_000, status }];

  it('is clean for every status with its movements', () => {
    expect(matchPayoutLedger(payout('ACCEPTED'), movements('PAYOUT_RESERVED'))).toEqual([]);
    expect(matchPayoutLedger(payout('SUCCEEDED'), movements('PAYOUT_SUCCEEDED', 'PAYOUT_RESERVED'))).toEqual([]);
    expect(matchPayoutLedger(payout('FAILED'), movements('PAYOUT_RESERVED', 'PAYOUT_FAILED'))).toEqual([]);
    expect(
      matchPayoutLedger(payout('REVERSED'), movements('PAYOUT_RESERVED', 'PAYOUT_SUCCEEDED', 'PAYOUT_REVERSED')),
    ).toEqual([]);
  });

  it('reports a missing, doubled or other-amount movement with the payout id', () => {
    expect(matchPayoutLedger(payout('SUCCEEDED'), movements('PAYOUT_RESERVED'))).toEqual([
      { kind: 'PAYOUT_LEDGER', id: PAYOUT, xenditId: null, detail: expect.stringContaining('PAYOUT_RESERVED 100000') },
    ]);
    expect(
      kinds(
        matchPayoutLedger(payout('SUCCEEDED'), movements('PAYOUT_RESERVED', 'PAYOUT_SUCCEEDED', 'PAYOUT_SUCCEEDED')),
      ),
    ).toEqual(['PAYOUT_LEDGER']);
    expect(kinds(matchPayoutLedger(payout('FAILED'), new Map()))).toEqual(['PAYOUT_LEDGER']);
    const short = new Map([[PAYOUT, [{ kind: 'PAYOUT_RESERVED' as const, amount: 99_000 }]]]);
    expect(kinds(matchPayoutLedger(payout('ACCEPTED'), short))).toEqual(['PAYOUT_LEDGER']);
  });
});

describe('the window', () => {
  const now = new Date('2026-12-03T12:00:00.000Z');

  it('defaults to the day before now, refuses an empty or reversed window and one longer than 31 days', () => {
    const { from, to } = parseInput(windowSchema, { to: now.toISOString() });
    expect(to.getTime() - from.getTime()).toBe(86_400_000);
    expect(() => parseInput(windowSchema, { from: now.toISOString(), to: now.toISOString() })).toThrow(
      /from: must be before to/,
    );
    expect(() => parseInput(windowSchema, { from: '2026-10-01T00:00:00Z', to: now.toISOString() })).toThrow(/31 days/);
    expect(() => parseInput(windowSchema, { from: 'yesterday' })).toThrow(/from/);
  });

  it('runs each whole interval once, the one that ended before callbacks and their sweeps may still come', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      RECONCILIATION_MS: '3600000',
      REFUND_CALLBACK_GRACE_MS: '600000',
      REFUND_RECONCILE_MS: '60000',
    });
    // 12:00 less 11 minutes of settling: the hour 10:00–11:00 is the last one whole.
    const due = dueWindow(now, config, null)!;
    expect([due.from.toISOString(), due.to.toISOString()]).toEqual([
      '2026-12-03T10:00:00.000Z',
      '2026-12-03T11:00:00.000Z',
    ]);
    expect(dueWindow(new Date('2026-12-03T12:10:59.000Z'), config, due.to)).toBeNull();
    // A process started later (or restarted) owes the last whole one, whenever it started.
    expect(dueWindow(new Date('2026-12-03T12:11:00.000Z'), config, due.to)).toEqual({
      from: new Date('2026-12-03T11:00:00.000Z'),
      to: new Date('2026-12-03T12:00:00.000Z'),
    });
    expect(loadConfig({ NODE_ENV: 'test' }).RECONCILIATION_MS).toBe(86_400_000);
  });

  it('reads the command line of npm run reconcile', () => {
    expect(durationMs('24h')).toBe(86_400_000);
    expect(durationMs('90m')).toBe(5_400_000);
    expect(durationMs('1.5h')).toBeNull();
    expect(windowOf(['--since', '2h'], now).query).toEqual({ from: '2026-12-03T10:00:00.000Z' });
    expect(windowOf(['--from', 'a', '--to', 'b', '--json'])).toEqual({ query: { from: 'a', to: 'b' }, json: true });
    expect(() => windowOf(['--since', 'soon'])).toThrow(/--since soon/);
    expect(() => windowOf(['--until', '2h'])).toThrow(/Usage/);
  });
});
