import { newId } from '../../lib/ids';
import type { InternalClient } from '../../lib/internal-client';
import { OutboxMessage } from '../../lib/outbox';
import { openServiceDatabase, type ServiceDatabase } from '../../test/support/service-db';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { SessionStatusChange } from './entities/session-status-change.entity';
import { ParticipantStatusChange } from './entities/participant-status-change.entity';
import type { ParticipantStatus, SessionStatus } from './states';
import { migrations } from './migrations';
import { SessionSettlement } from './settlement';

/** A call settlement made to another subgraph. */
interface Call {
  service: string;
  path: string;
  body: any;
}

/**
 * Payment and order as settlement sees them: every call recorded, answered by `answer` (a throw stands for a
 * service that is down). Only the collaborator is fake; the sessions, claims and outbox are real PostgreSQL.
 */
function fakeDownstream(answer: (call: Call) => unknown | Promise<unknown>) {
  const calls: Call[] = [];
  const client = {
    async post(service: string, path: string, body: unknown) {
      const call = { service, path, body };
      calls.push(call);
      return answer(call);
    },
  } as unknown as InternalClient;
  return { client, calls, paths: () => calls.map((c) => c.path) };
}

/** What payment and order answer when all goes well: nothing left to expire or refund, an order per participant. */
const healthy = (call: Call): unknown => {
  if (call.path === '/api/orders/bulk')
    return { orders: call.body.participants.map((p: any) => ({ participantId: p.participantId, orderId: newId() })) };
  return {};
};

/**
 * The session settlement of group-buying in process against PostgreSQL: MOQ decided on expiry, bulk orders and
 * refunds a chunk at a time, claims, back-off after a failure and the round a late payment bumps. The flows
 * with real payment and order processes: group-buying.test.ts and test/holds-and-settlement.test.ts.
 */
describe('group-buying session settlement', () => {
  let db: ServiceDatabase;
  const config = { SETTLEMENT_CHUNK: 2, SETTLEMENT_CLAIM_TTL_MS: 60_000, SETTLEMENT_BACKOFF_MAX_MS: 30_000 };

  beforeAll(async () => {
    db = await openServiceDatabase('group-buying', {
      entities: [GroupBuyingSession, GroupParticipant, SessionStatusChange, ParticipantStatusChange, OutboxMessage],
      migrations,
    });
  });
  afterAll(() => db?.close());
  // Each test sees only its own sessions: a sweep claims every ended one.
  beforeEach(() => db.orm.em.fork().nativeDelete(GroupBuyingSession, {}));

  const settlement = (client: InternalClient) => new SessionSettlement(db.orm.em.fork(), client, config);

  /** A session ended a minute ago (or ending in an hour) with participants in the given states, 1 unit each. */
  const aSession = async (
    participants: ParticipantStatus[],
    options: { moq?: number; ended?: boolean; status?: SessionStatus } = {},
  ) => {
    const em = db.orm.em.fork();
    const paid = participants.filter((s) => s === 'PAID').length;
    const session = em.create(GroupBuyingSession, {
      productId: newId(),
      variantId: newId(),
      factoryId: newId(),
      createdBy: newId(),
      moq: options.moq ?? 3,
      groupPrice: 50_000,
      endsAt: new Date(Date.now() + (options.ended === false ? 3_600_000 : -60_000)),
      status: options.status ?? 'FORMING',
      joinedQuantity: participants.length,
      paidQuantity: paid,
      participantsCount: participants.length,
    });
    for (const status of participants)
      em.create(GroupParticipant, {
        sessionId: session.id,
        userId: newId(),
        quantity: 1,
        unitPrice: 50_000,
        amount: 50_000,
        addressId: newId(),
        status,
        paymentId: newId(),
      });
    await em.flush();
    return session;
  };
  const reload = (id: string) => db.orm.em.fork().findOneOrFail(GroupBuyingSession, { id });
  const participantsOf = (sessionId: string) =>
    db.orm.em.fork().find(GroupParticipant, { sessionId }, { orderBy: { id: 'asc' } });
  /** The notices the session's outcome enqueued, as their notification types and whether for the owner. */
  const noticesOf = async (sessionId: string) =>
    (await db.orm.em.fork().find(OutboxMessage, { dedupeKey: { $like: `notify:group-buying:${sessionId}:%` } })).map(
      (m) => `${m.body.type as string}${m.dedupeKey.endsWith(':owner') ? ' (owner)' : ''}`,
    );

  it('orders every paid place once the MOQ is reached, a chunk at a time, and tells buyers and owner', async () => {
    const session = await aSession(['PAID', 'PAID', 'PAID', 'PENDING_PAYMENT']);
    const { client, calls, paths } = fakeDownstream(healthy);

    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'MOQ_REACHED', settled: true },
    ]);

    // The unpaid invoice is expired before any order, so no payment arrives while orders are placed.
    expect(paths()).toEqual(['/api/payments/expire-session', '/api/orders/bulk', '/api/orders/bulk']);
    expect(calls[0].body).toEqual({ sessionId: session.id, limit: 2 });
    expect(calls.slice(1).map((c) => c.body.participants.length)).toEqual([2, 1]);
    expect(calls[1].body).toMatchObject({ sessionId: session.id, unitPrice: 50_000, factoryId: session.factoryId });
    const ordered = new Map(
      calls.slice(1).flatMap((c) => c.body.participants.map((p: any) => [p.participantId, p.paymentId])),
    );
    const after = await participantsOf(session.id);
    expect(after.filter((p) => p.status === 'ORDERED').map((p) => [p.id, p.paymentId])).toEqual([...ordered]);
    expect(after.filter((p) => p.status === 'ORDERED').every((p) => p.orderId)).toBe(true);
    expect(after.filter((p) => p.status === 'PENDING_PAYMENT')).toHaveLength(1);

    const settled = await reload(session.id);
    expect(settled).toMatchObject({ status: 'MOQ_REACHED', settlementState: 'SETTLED', processingClaim: null });
    expect((await noticesOf(session.id)).sort()).toEqual([
      'SESSION_MOQ_REACHED',
      'SESSION_MOQ_REACHED',
      'SESSION_MOQ_REACHED',
      'SESSION_MOQ_REACHED (owner)',
    ]);

    // Settled means done: a second sweep finds nothing to do and calls no one.
    expect(await settlement(client).processExpired()).toEqual([]);
    expect(calls).toHaveLength(3);
  });

  it('fails a session below its MOQ and asks payment to refund until nothing is left, placing no order', async () => {
    const session = await aSession(['PAID', 'PENDING_PAYMENT', 'EXPIRED'], { moq: 2 });
    let refundCalls = 0;
    const { client, calls, paths } = fakeDownstream((call) =>
      call.path === '/api/payments/refund-session' ? { more: (refundCalls += 1) < 3 } : {},
    );

    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'FAILED', settled: true },
    ]);
    expect(paths()).toEqual([
      '/api/payments/expire-session',
      '/api/payments/refund-session',
      '/api/payments/refund-session',
      '/api/payments/refund-session',
    ]);
    expect(calls[1].body).toEqual({ sessionId: session.id, reason: 'MOQ_NOT_REACHED', limit: 2 });
    expect(await reload(session.id)).toMatchObject({ status: 'FAILED', settlementState: 'SETTLED' });
    // Payment tells each refund back; settlement itself moves no participant.
    expect((await participantsOf(session.id)).map((p) => p.status).sort()).toEqual([
      'EXPIRED',
      'PAID',
      'PENDING_PAYMENT',
    ]);
    // Holders are told (paid and unpaid), the place that expired is not.
    expect((await noticesOf(session.id)).sort()).toEqual([
      'SESSION_FAILED',
      'SESSION_FAILED',
      'SESSION_FAILED (owner)',
    ]);
  });

  it('leaves a session that has not ended, and one another sweep holds, alone; takes over a stale claim', async () => {
    const running = await aSession(['PAID'], { ended: false });
    const held = await aSession(['PAID'], { moq: 1 });
    const stale = await aSession(['PAID'], { moq: 1 });
    const em = db.orm.em.fork();
    await em.nativeUpdate(
      GroupBuyingSession,
      { id: held.id },
      { processingClaim: newId(), processingClaimedAt: new Date() },
    );
    await em.nativeUpdate(
      GroupBuyingSession,
      { id: stale.id },
      { processingClaim: newId(), processingClaimedAt: new Date(Date.now() - config.SETTLEMENT_CLAIM_TTL_MS - 1000) },
    );
    const { client } = fakeDownstream(healthy);

    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: stale.id, outcome: 'MOQ_REACHED', settled: true },
    ]);
    expect((await reload(running.id)).status).toBe('FORMING');
    expect(await reload(held.id)).toMatchObject({ status: 'FORMING', settlementState: null });
  });

  it('backs a session off while payment is down, doubling the wait, then finishes it and resets the count', async () => {
    const session = await aSession(['PAID'], { moq: 2 });
    let paymentUp = false;
    const { client, paths } = fakeDownstream((call) => {
      if (!paymentUp) throw new Error('payment is down');
      return healthy(call);
    });

    const startedAt = Date.now();
    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'FAILED', settled: false },
    ]);
    // The status is decided and told even though nothing downstream answered.
    let failing = await reload(session.id);
    expect(failing).toMatchObject({
      status: 'FAILED',
      settlementState: 'PENDING',
      settlementAttempts: 1,
      settlementError: 'payment is down',
      processingClaim: null,
    });
    expect(failing.settlementRetryAt!.getTime()).toBeGreaterThanOrEqual(startedAt + 1000 - 50);
    expect(await noticesOf(session.id)).toHaveLength(2);

    // Not due yet: the next sweep passes it by.
    expect(await settlement(client).processExpired()).toEqual([]);
    expect(paths()).toEqual(['/api/payments/expire-session']);

    const em = db.orm.em.fork();
    await em.nativeUpdate(GroupBuyingSession, { id: session.id }, { settlementRetryAt: new Date(Date.now() - 1) });
    const retriedAt = Date.now();
    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'FAILED', settled: false },
    ]);
    failing = await reload(session.id);
    // 1 s after the first failure, 2 s after the second.
    expect(failing.settlementAttempts).toBe(2);
    expect(failing.settlementRetryAt!.getTime()).toBeGreaterThanOrEqual(retriedAt + 2000 - 50);

    paymentUp = true;
    await em.nativeUpdate(GroupBuyingSession, { id: session.id }, { settlementRetryAt: new Date(Date.now() - 1) });
    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'FAILED', settled: true },
    ]);
    expect(await reload(session.id)).toMatchObject({
      settlementState: 'SETTLED',
      settlementAttempts: 0,
      settlementRetryAt: null,
      settlementError: null,
    });
    // Told once, whatever the number of runs.
    expect(await noticesOf(session.id)).toHaveLength(2);
  });

  it('keeps a session pending when a late payment bumps its round during the run', async () => {
    const session = await aSession(['PAID', 'PAID'], { moq: 2 });
    const { client } = fakeDownstream(async (call) => {
      if (call.path === '/api/payments/expire-session')
        await db.orm.em
          .fork()
          .getConnection()
          .execute('update group_buying_sessions set settlement_round = settlement_round + 1 where id = ?', [
            session.id,
          ]);
      return healthy(call);
    });

    expect(await settlement(client).processExpired()).toEqual([
      { sessionId: session.id, outcome: 'MOQ_REACHED', settled: false },
    ]);
    expect(await reload(session.id)).toMatchObject({ settlementState: 'PENDING', processingClaim: null });
  });

  it('cancels a forming session with its refunds, and refuses to cancel one that ended', async () => {
    const forming = await aSession(['PAID', 'PENDING_PAYMENT'], { ended: false });
    const { client, calls, paths } = fakeDownstream(healthy);

    const cancelled = await settlement(client).cancel(forming);
    expect(cancelled.status).toBe('CANCELLED');
    expect(paths()).toEqual(['/api/payments/expire-session', '/api/payments/refund-session']);
    expect(calls[1].body).toEqual({ sessionId: forming.id, reason: 'SESSION_CANCELLED', limit: 2 });
    expect(await reload(forming.id)).toMatchObject({
      status: 'CANCELLED',
      settlementState: 'SETTLED',
      processingClaim: null,
    });
    expect((await noticesOf(forming.id)).sort()).toEqual([
      'SESSION_FAILED',
      'SESSION_FAILED',
      'SESSION_FAILED (owner)',
    ]);

    const ended = await aSession(['PAID']);
    await expect(settlement(client).cancel(ended)).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
      message: 'Only a session that is still forming can be cancelled',
    });
    expect((await reload(ended.id)).status).toBe('FORMING');
    expect(calls).toHaveLength(2);
  });
});
