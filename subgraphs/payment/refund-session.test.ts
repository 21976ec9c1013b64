import { loadConfig } from '../../lib/config';
import { newId } from '../../lib/ids';
import { OutboxMessage } from '../../lib/outbox';
import { capturingLogger } from '../../test/support/logs';
import { openServiceDatabase, type ServiceDatabase } from '../../test/support/service-db';
import { Payment } from './entities/payment.entity';
import { Refund } from './entities/refund.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { subgraph } from './index';
import { PaymentService } from './service';
import type { PaymentGateway } from './xendit';
import type { EscrowStatus, PaymentStatus, RefundDestination } from './states';

/** A refund asked of Xendit. */
interface RefundCall {
  refundId: string;
  invoiceId: string;
  amount: number;
  reason: string;
}

/**
 * Xendit's refunds as payment's gateway sees them: each call recorded, answered by `answer` (a throw with a
 * status is Xendit's error answer). Only Xendit is fake; payments, refunds and the ledger are real PostgreSQL.
 */
function fakeXendit(answer: (call: RefundCall) => { id: string } = (call) => ({ id: `rfd-${call.refundId}` })) {
  const calls: RefundCall[] = [];
  const gateway: PaymentGateway = {
    createInvoice: () => Promise.reject(new Error('not used by a session refund')),
    findPendingInvoice: () => Promise.reject(new Error('not used by a session refund')),
    expireInvoice: () => Promise.reject(new Error('not used by a session refund')),
    getRefund: () => Promise.reject(new Error('not used by a session refund')),
    async createRefund(input) {
      calls.push(input);
      return answer(input);
    },
  };
  return { gateway, calls };
}

const xenditError = (status: number, errorCode: string) => Object.assign(new Error(errorCode), { status, errorCode });

/**
 * Payment's refund of a failed or cancelled session in process against PostgreSQL: each paid escrow payment
 * claimed once (REFUND_RESERVED pair, a wallet credit enqueued or a Xendit refund sent), a chunk per call,
 * resumable after Xendit fails, a refusal for good left FAILED for an operator. The flow with the group-buying
 * and payment processes: subgraphs/group-buying/group-buying.test.ts and test/holds-and-settlement.test.ts.
 */
describe('payment: refunding a session', () => {
  let db: ServiceDatabase;
  const config = loadConfig({ NODE_ENV: 'test' });

  beforeAll(async () => {
    db = await openServiceDatabase('payment', subgraph);
  });
  afterAll(() => db?.close());

  const notUsed = () => Promise.reject(new Error('not used by a session refund'));
  const service = (gateway: PaymentGateway) =>
    new PaymentService(db.orm.em.fork(), {
      gateway,
      logger: capturingLogger().logger,
      regularInvoiceSeconds: 3600,
      feeBps: config.PLATFORM_FEE_BPS,
      xenditRecords: { paidInvoices: notUsed, invoice: notUsed, refunds: notUsed, refund: notUsed },
    });

  /** A session's escrow payments, one per entry, 100 000 IDR each unless said otherwise. */
  const aSession = async (
    payments: { status: PaymentStatus; escrow?: EscrowStatus; refundTo?: RefundDestination; amount?: number }[],
  ) => {
    const sessionId = newId();
    const factoryId = newId();
    const em = db.orm.em.fork();
    const created = payments.map((p) =>
      em.create(Payment, {
        userId: newId(),
        factoryId,
        sessionId,
        participantId: newId(),
        isInEscrow: true,
        amount: p.amount ?? 100_000,
        description: 'Group buy: Kaos Polos Cotton Combed 30s',
        status: p.status,
        escrowStatus: p.status === 'PAID' ? (p.escrow ?? 'HELD') : null,
        refundTo: p.refundTo ?? 'ORIGINAL_METHOD',
        invoiceId: `inv-${newId()}`,
      }),
    );
    await em.flush();
    return { sessionId, payments: created };
  };
  const refundsOf = (sessionId: string) => db.orm.em.fork().find(Refund, { sessionId }, { orderBy: { id: 'asc' } });
  const paymentOf = (id: string) => db.orm.em.fork().findOneOrFail(Payment, { id });
  /** The ledger legs a refund booked, as [kind, account, amount]. */
  const legsOf = async (refundId: string) =>
    (await db.orm.em.fork().find(LedgerEntry, { refundId }, { orderBy: { amount: 'asc' } })).map((e) => [
      e.kind,
      e.account,
      e.amount,
    ]);

  it('refunds every held payment once, a chunk per call, to Xendit or the wallet, with a balanced pair each', async () => {
    const { sessionId, payments } = await aSession([
      { status: 'PAID' },
      { status: 'PAID', refundTo: 'WALLET', amount: 70_000 },
      { status: 'PAID' },
      { status: 'PENDING' },
      { status: 'PAID', escrow: 'RELEASED' },
    ]);
    const [first, toWallet, third, unpaid, released] = payments;
    const xendit = fakeXendit();

    expect(await service(xendit.gateway).refundSession({ sessionId, reason: 'MOQ_NOT_REACHED', limit: 2 })).toEqual({
      refunds: [],
      more: true,
    });
    const done = await service(xendit.gateway).refundSession({ sessionId, reason: 'MOQ_NOT_REACHED', limit: 2 });
    expect(done.more).toBeUndefined();

    const refunds = await refundsOf(sessionId);
    expect(done.refunds.map((r) => r.id)).toEqual(refunds.map((r) => r.id));
    expect(refunds.map((r) => [r.paymentId, r.destination, r.amount, r.reason]).sort()).toEqual(
      [
        [first.id, 'ORIGINAL_METHOD', 100_000, 'MOQ_NOT_REACHED'],
        [toWallet.id, 'WALLET', 70_000, 'MOQ_NOT_REACHED'],
        [third.id, 'ORIGINAL_METHOD', 100_000, 'MOQ_NOT_REACHED'],
      ].sort(),
    );
    for (const p of [first, toWallet, third]) expect((await paymentOf(p.id)).escrowStatus).toBe('REFUNDED');
    expect(await paymentOf(unpaid.id)).toMatchObject({ status: 'PENDING', escrowStatus: null });
    expect((await paymentOf(released.id)).escrowStatus).toBe('RELEASED');

    // Xendit has the two ORIGINAL_METHOD refunds, once each, under the refund's id, for a reason it knows.
    const byPayment = new Map(refunds.map((r) => [r.paymentId, r]));
    expect(xendit.calls.map((c) => [c.refundId, c.invoiceId, c.amount, c.reason]).sort()).toEqual(
      [first, third].map((p) => [byPayment.get(p.id)!.id, p.invoiceId, 100_000, 'CANCELLATION']).sort(),
    );
    for (const p of [first, third]) expect(byPayment.get(p.id)!.xenditRefundId).toBe(`rfd-${byPayment.get(p.id)!.id}`);
    // The wallet's refund is a credit through the outbox, never a Xendit call.
    const walletRefund = byPayment.get(toWallet.id)!;
    const credit = await db.orm.em
      .fork()
      .findOneOrFail(OutboxMessage, { dedupeKey: `wallet-credit:${walletRefund.id}` });
    expect(credit).toMatchObject({ service: 'wallet', body: { userId: toWallet.userId, amount: 70_000 } });

    // Each refund moved its money out of escrow into buyer_refunds as one balanced pair (a debit is positive).
    for (const refund of refunds) {
      const legs = await legsOf(refund.id);
      expect(legs).toEqual([
        ['REFUND_RESERVED', 'buyer_refunds', -refund.amount],
        ['REFUND_RESERVED', 'escrow', refund.amount],
      ]);
    }

    // Asked again (a settlement run taken over after a crash): the same refunds, nothing sent twice.
    const again = await service(xendit.gateway).refundSession({ sessionId, reason: 'MOQ_NOT_REACHED' });
    expect(again).toEqual(done);
    expect(xendit.calls).toHaveLength(2);
    expect(await refundsOf(sessionId)).toHaveLength(3);
  });

  it('sends after a Xendit outage only the refunds Xendit does not have yet', async () => {
    const { sessionId } = await aSession([{ status: 'PAID' }, { status: 'PAID' }, { status: 'PAID' }]);
    let xenditUp = false;
    const xendit = fakeXendit((call) => {
      if (!xenditUp) throw xenditError(503, 'SERVER_ERROR');
      return { id: `rfd-${call.refundId}` };
    });

    await expect(
      service(xendit.gateway).refundSession({ sessionId, reason: 'SESSION_CANCELLED' }),
    ).rejects.toMatchObject({ status: 503 });
    // The money is claimed and booked in the first step, whatever happens at Xendit.
    const reserved = await refundsOf(sessionId);
    expect(reserved).toHaveLength(3);
    expect(reserved.every((r) => r.status === 'PENDING' && !r.xenditRefundId)).toBe(true);
    const failedCalls = xendit.calls.length;
    // Once Xendit struggles nothing new is started.
    expect(failedCalls).toBeGreaterThanOrEqual(1);
    expect(failedCalls).toBeLessThanOrEqual(3);

    xenditUp = true;
    const done = await service(xendit.gateway).refundSession({ sessionId, reason: 'SESSION_CANCELLED' });
    expect(done.refunds).toHaveLength(3);
    const sentAfter = xendit.calls.slice(failedCalls).map((c) => c.refundId);
    expect(sentAfter.sort()).toEqual(reserved.map((r) => r.id).sort());
    expect((await refundsOf(sessionId)).every((r) => r.xenditRefundId === `rfd-${r.id}`)).toBe(true);
  });

  it('leaves a refund Xendit refuses for good FAILED with its code, and goes on with the others', async () => {
    const { sessionId, payments } = await aSession([{ status: 'PAID' }, { status: 'PAID' }]);
    const refused = payments[0];
    const xendit = fakeXendit((call) => {
      if (call.invoiceId === refused.invoiceId) throw xenditError(400, 'REFUND_NOT_SUPPORTED');
      return { id: `rfd-${call.refundId}` };
    });

    const done = await service(xendit.gateway).refundSession({ sessionId, reason: 'MOQ_NOT_REACHED' });
    expect(done.more).toBeUndefined();
    const byPayment = new Map((await refundsOf(sessionId)).map((r) => [r.paymentId, r]));
    expect(byPayment.get(refused.id)).toMatchObject({ status: 'FAILED', failureCode: 'REFUND_NOT_SUPPORTED' });
    expect(byPayment.get(payments[1].id)).toMatchObject({ status: 'PENDING', xenditRefundId: expect.any(String) });
    // The refused money stays in buyer_refunds for an operator: its reserve pair is not undone.
    expect(await legsOf(byPayment.get(refused.id)!.id)).toHaveLength(2);

    // A repeat does not send the refused one again.
    await service(xendit.gateway).refundSession({ sessionId, reason: 'MOQ_NOT_REACHED' });
    expect(xendit.calls).toHaveLength(2);
  });

  it('refuses a malformed request as BAD_USER_INPUT and touches nothing', async () => {
    const xendit = fakeXendit();
    await expect(service(xendit.gateway).refundSession({ sessionId: 'nope' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await expect(service(xendit.gateway).refundSession({ sessionId: newId(), limit: 0 })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await service(xendit.gateway).refundSession({ sessionId: newId() })).toEqual({ refunds: [] });
    expect(xendit.calls).toEqual([]);
  });
});
