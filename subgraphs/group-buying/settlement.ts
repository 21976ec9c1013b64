import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { conflict } from '../../lib/errors';
import { assertTransition } from '../../lib/state-machine';
import { InternalClient } from '../../lib/internal-client';
import { Logger } from '../../lib/logger';
import { newId } from '../../lib/ids';
import { BackgroundTask, SubgraphDeps } from '../../lib/subgraph-server';
import { startPeriodicTask } from '../../lib/periodic';
import { moqOutcome, SESSION_TRANSITIONS } from './state';
import { notifyParticipants, publishProgress, updateSession } from './session-store';

/** Sessions one sweep claims at a time. */
const CLAIM_BATCH = 10;

export interface ProcessedSession {
  sessionId: string;
  /** The session's status after this pass (MOQ_REACHED, FAILED, CANCELLED …). */
  outcome: string;
  /** False while orders or refunds are still owed downstream: a later sweep retries. */
  settled: boolean;
}

/**
 * Expiry and settlement (DESIGN.md §3). A sweep claims sessions that ended while FORMING or whose
 * settlement is unfinished; the claim records who took it and when, so a crashed holder's claim goes
 * stale after 60 s and is taken over. The status flips first, in one transaction with its event and
 * notifications; the downstream calls that follow (orders, invoice expiry, refunds, escrow release) are
 * idempotent and repeated until the session is marked SETTLED.
 */
export class SessionSettlement {
  constructor(
    private readonly em: EntityManager,
    private readonly client: InternalClient,
    private readonly logger?: Logger,
  ) {}

  async processExpired(): Promise<ProcessedSession[]> {
    const token = newId();
    const claimed: { id: string }[] = await this.em.execute(
      `update group_buying_sessions set processing_claimed_at = now(), processing_claim = ?
        where id in (
          select id from group_buying_sessions
           where ((status = 'FORMING' and ends_at <= now()) or settlement_state = 'PENDING')
             and (processing_claimed_at is null or processing_claimed_at < now() - interval '60 seconds')
           order by ends_at
           limit ${CLAIM_BATCH}
           for update skip locked)
        returning id`,
      [token],
    );
    const processed: ProcessedSession[] = [];
    for (const { id } of claimed) processed.push(await this.advance(id, token));
    return processed;
  }

  /** FORMING → CANCELLED under a claim, then its refunds; the scheduler finishes them if payment is down. */
  async cancel(session: GroupBuyingSession): Promise<GroupBuyingSession> {
    const token = newId();
    const cancelled = await this.em.transactional(async (tx) => {
      const updated = await updateSession(
        tx,
        `status = 'CANCELLED', settlement_state = 'PENDING', processing_claim = ?, processing_claimed_at = now()`,
        `id = ? and status = 'FORMING' and ends_at > now()`,
        [token, session.id],
      );
      if (!updated) throw conflict('Only a session that is still forming can be cancelled');
      await publishProgress(tx, updated);
      const holders = await tx.find(GroupParticipant, { sessionId: session.id, status: { $in: ['PENDING_PAYMENT', 'PAID'] } });
      await notifyParticipants(tx, updated, holders, {
        type: 'SESSION_FAILED',
        title: 'Group buy cancelled',
        body: 'The factory cancelled this group buy. Any payment you made will be refunded.',
      });
      return updated;
    });
    await this.finish(cancelled, token);
    return cancelled;
  }

  private async advance(id: string, token: string): Promise<ProcessedSession> {
    const em = this.em.fork();
    let session = await em.findOneOrFail(GroupBuyingSession, { id });
    try {
      if (session.status === 'FORMING') session = await this.decide(em, session, token);
    } catch (error) {
      this.logger?.error({ err: error, sessionId: id }, 'deciding an ended session failed');
      await this.release(id, token);
      return { sessionId: id, outcome: session.status, settled: false };
    }
    return { sessionId: id, outcome: session.status, settled: await this.finish(session, token) };
  }

  /** FORMING → MOQ_REACHED or FAILED by the paid quantity, read under the row lock. */
  private decide(em: EntityManager, session: GroupBuyingSession, token: string): Promise<GroupBuyingSession> {
    return em.transactional(async (tx) => {
      const locked = await tx.findOneOrFail(GroupBuyingSession, { id: session.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (locked.status !== 'FORMING' || locked.processingClaim !== token) return locked;
      const outcome = moqOutcome(locked.paidQuantity, locked.moq);
      assertTransition(SESSION_TRANSITIONS, locked.status, outcome, 'session status');
      const updated = (await updateSession(tx, `status = ?, settlement_state = 'PENDING'`, `id = ? and status = 'FORMING'`, [outcome, locked.id]))!;
      await publishProgress(tx, updated);
      if (outcome === 'MOQ_REACHED') {
        const paid = await tx.find(GroupParticipant, { sessionId: locked.id, status: 'PAID' });
        await notifyParticipants(tx, updated, paid, {
          type: 'SESSION_MOQ_REACHED',
          title: 'Group buy reached its minimum',
          body: 'The group buy you joined reached its minimum order. Your order is placed and production starts soon.',
        });
      } else {
        const holders = await tx.find(GroupParticipant, { sessionId: locked.id, status: { $in: ['PENDING_PAYMENT', 'PAID'] } });
        await notifyParticipants(tx, updated, holders, {
          type: 'SESSION_FAILED',
          title: 'Group buy did not reach its minimum',
          body: 'The group buy you joined ended below its minimum order. Any payment you made will be refunded.',
        });
      }
      return updated;
    });
  }

  /** Settles when owed, then lets go of the claim; false when something is left for a later sweep. */
  private async finish(session: GroupBuyingSession, token: string): Promise<boolean> {
    try {
      return session.settlementState === 'PENDING' ? await this.settle(session) : true;
    } catch (error) {
      this.logger?.warn({ err: error, sessionId: session.id }, 'session settlement failed; a later sweep retries');
      return false;
    } finally {
      await this.release(session.id, token);
    }
  }

  /**
   * The downstream side of a status change. Unpaid invoices are expired first so no new payment
   * arrives while orders or refunds are made; a payment that still slips in bumps settlement_round,
   * and this run then leaves the session PENDING for the next sweep.
   */
  private async settle(session: GroupBuyingSession): Promise<boolean> {
    const sessionId = session.id;
    const round = session.settlementRound;
    await this.client.post('payment', '/api/payments/expire-session', { sessionId });
    if (session.status === 'FAILED' || session.status === 'CANCELLED') {
      await this.client.post('payment', '/api/payments/refund-session', {
        sessionId,
        reason: session.status === 'FAILED' ? 'MOQ_NOT_REACHED' : 'SESSION_CANCELLED',
      });
    } else {
      await this.placeOrders(session);
      if (session.status === 'COMPLETED') await this.client.post('payment', '/api/payments/release-escrow', { sessionId });
    }
    const rows = await this.em.execute(
      `update group_buying_sessions set settlement_state = 'SETTLED', settled_at = now(), updated_at = now()
        where id = ? and settlement_state = 'PENDING' and settlement_round = ? returning id`,
      [sessionId, round],
    );
    return rows.length > 0;
  }

  /** Bulk orders for the paid participants (idempotent per participant at order), who become ORDERED. */
  private async placeOrders(session: GroupBuyingSession): Promise<void> {
    const paid = await this.em.fork().find(GroupParticipant, { sessionId: session.id, status: 'PAID' }, { orderBy: { id: 'asc' } });
    if (!paid.length) return;
    const { orders } = await this.client.post<{ orders: { orderId: string; participantId: string }[] }>('order', '/api/orders/bulk', {
      sessionId: session.id,
      productId: session.productId,
      variantId: session.variantId,
      factoryId: session.factoryId,
      unitPrice: session.groupPrice,
      participants: paid.map((p) => ({
        participantId: p.id,
        userId: p.userId,
        quantity: p.quantity,
        addressId: p.addressId,
        paymentId: p.paymentId,
      })),
    });
    await this.em.transactional(async (tx) => {
      for (const { orderId, participantId } of orders) {
        await tx.execute(
          `update group_participants set status = 'ORDERED', order_id = ?, updated_at = now() where id = ? and session_id = ? and status = 'PAID'`,
          [orderId, participantId, session.id],
        );
      }
    });
  }

  private async release(id: string, token: string): Promise<void> {
    await this.em.execute(
      `update group_buying_sessions set processing_claim = null, processing_claimed_at = null where id = ? and processing_claim = ?`,
      [id, token],
    );
  }
}

/** The built-in scheduler: a sweep every EXPIRY_SWEEP_MS, and straight again while batches come back full. */
export function startExpiryScheduler(deps: SubgraphDeps): BackgroundTask {
  return startPeriodicTask(
    'expiry sweep',
    deps.config.EXPIRY_SWEEP_MS,
    async (stopped) => {
      while (!stopped()) {
        const processed = await new SessionSettlement(deps.orm.em.fork(), deps.client, deps.logger).processExpired();
        if (processed.length < CLAIM_BATCH || processed.some((p) => !p.settled)) return;
      }
    },
    deps.logger,
  );
}
