import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { claimed, statesLeadingTo, transition } from '../../lib/state-machine';
import type { InternalClient } from '../../lib/internal-client';
import type { Logger } from '../../lib/logger';
import { newId } from '../../lib/ids';
import type { Config } from '../../lib/config';
import type { BackgroundTask, SubgraphDeps } from '../../lib/subgraph-server';
import { startPeriodicTask } from '../../lib/periodic';
import { moqOutcome, PARTICIPANT_TRANSITIONS, SESSION_TRANSITIONS } from './states';
import { publishProgress } from './session-store';
import { notify } from '../../lib/notify';
import type { NotificationType } from '../../lib/contracts/notification';

/** The participant states a bulk order is placed for. */
const ORDERABLE = statesLeadingTo(PARTICIPANT_TRANSITIONS, 'ORDERED');

/** Sessions one sweep claims at a time. */
const CLAIM_BATCH = 10;

/** First wait after a failed settlement run; it doubles per failure up to SETTLEMENT_BACKOFF_MAX_MS. */
const FIRST_RETRY_MS = 1000;

export type SettlementConfig = Pick<
  Config,
  'SETTLEMENT_CHUNK' | 'SETTLEMENT_CLAIM_TTL_MS' | 'SETTLEMENT_BACKOFF_MAX_MS'
>;

/** Another holder took the session over (our claim lapsed): stop, it carries on. */
class ClaimLost extends Error {}

export interface ProcessedSession {
  sessionId: string;
  /** The session's status after this pass (MOQ_REACHED, FAILED, CANCELLED …). */
  outcome: string;
  /** False while orders or refunds are still owed downstream: a later sweep retries. */
  settled: boolean;
}

/**
 * Expiry and settlement (DESIGN.md §3). A sweep claims sessions that ended while FORMING or whose
 * settlement is unfinished; the claim records who took it and when it was last renewed, so a crashed
 * holder's claim goes stale after SETTLEMENT_CLAIM_TTL_MS and is taken over. The status flips first, in
 * one transaction with its event and notifications; the downstream calls that follow (invoice expiry,
 * orders, refunds, escrow release) go SETTLEMENT_CHUNK participants at a time, renewing the claim after
 * each chunk, and are idempotent per participant or payment, so a run taken over after a crash repeats
 * nothing. A run that fails leaves the session for later with a doubling wait, so the sweep moves on.
 */
export class SessionSettlement {
  constructor(
    private readonly em: EntityManager,
    private readonly client: InternalClient,
    private readonly config: SettlementConfig,
    private readonly logger?: Logger,
  ) {}

  async processExpired(): Promise<ProcessedSession[]> {
    const token = newId();
    const claimed: { id: string }[] = await this.em.execute(
      `update group_buying_sessions set processing_claimed_at = now(), processing_claim = ?
        where id in (
          select id from group_buying_sessions
           where ((status = 'FORMING' and ends_at <= now()) or settlement_state = 'PENDING')
             and (processing_claimed_at is null or processing_claimed_at < now() - ?::int * interval '1 millisecond')
             and (settlement_retry_at is null or settlement_retry_at <= now())
           order by coalesce(settlement_retry_at, ends_at)
           limit ${CLAIM_BATCH}
           for update skip locked)
        returning id`,
      [token, this.config.SETTLEMENT_CLAIM_TTL_MS],
    );
    const processed: ProcessedSession[] = [];
    for (const { id } of claimed) processed.push(await this.advance(id, token));
    return processed;
  }

  /** FORMING → CANCELLED under a claim, then its refunds; the scheduler finishes them if payment is down. */
  async cancel(session: GroupBuyingSession): Promise<GroupBuyingSession> {
    const token = newId();
    const cancelled = await this.em.transactional(async (tx) => {
      const updated = claimed(
        await transition(tx, GroupBuyingSession, session.id, 'CANCELLED', {
          table: SESSION_TRANSITIONS,
          set: { settlementState: 'PENDING', processingClaim: token, processingClaimedAt: new Date() },
          where: { endsAt: { $gt: new Date() } },
          effects: publishProgress,
        }),
        'Only a session that is still forming can be cancelled',
      );
      const holders = await tx.find(GroupParticipant, {
        sessionId: session.id,
        status: { $in: ['PENDING_PAYMENT', 'PAID'] },
      });
      await tellOutcome(tx, updated, holders, {
        type: 'SESSION_FAILED',
        title: 'Group buy cancelled',
        buyers: 'The factory cancelled this group buy. Any payment you made will be refunded.',
        owner: `Your group buy was cancelled with ${updated.paidQuantity} of ${updated.moq} units paid. Its buyers are being refunded.`,
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
      await this.backOff(id, token, error);
      return { sessionId: id, outcome: session.status, settled: false };
    }
    return { sessionId: id, outcome: session.status, settled: await this.finish(session, token) };
  }

  /** FORMING → MOQ_REACHED or FAILED by the paid quantity, read under the row lock. */
  private decide(em: EntityManager, session: GroupBuyingSession, token: string): Promise<GroupBuyingSession> {
    return em.transactional(async (tx) => {
      const locked = await tx.findOneOrFail(
        GroupBuyingSession,
        { id: session.id },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (locked.status !== 'FORMING' || locked.processingClaim !== token) return locked;
      const outcome = moqOutcome(locked.paidQuantity, locked.moq);
      const updated = claimed(
        await transition(tx, GroupBuyingSession, locked.id, outcome, {
          table: SESSION_TRANSITIONS,
          set: { settlementState: 'PENDING' },
          effects: publishProgress,
        }),
        'The session changed meanwhile',
      );
      if (outcome === 'MOQ_REACHED') {
        const paid = await tx.find(GroupParticipant, { sessionId: locked.id, status: 'PAID' });
        await tellOutcome(tx, updated, paid, {
          type: 'SESSION_MOQ_REACHED',
          title: 'Group buy reached its minimum',
          buyers:
            'The group buy you joined reached its minimum order. Your order is placed and production starts soon.',
          owner: `Your group buy reached its minimum: ${updated.paidQuantity} units paid (minimum ${updated.moq}) by ${paid.length} buyers. Their orders are being placed; start production when you are ready.`,
        });
      } else {
        const holders = await tx.find(GroupParticipant, {
          sessionId: locked.id,
          status: { $in: ['PENDING_PAYMENT', 'PAID'] },
        });
        await tellOutcome(tx, updated, holders, {
          type: 'SESSION_FAILED',
          title: 'Group buy did not reach its minimum',
          buyers: 'The group buy you joined ended below its minimum order. Any payment you made will be refunded.',
          owner: `Your group buy ended with ${updated.paidQuantity} of ${updated.moq} units paid, below its minimum. Its buyers are being refunded.`,
        });
      }
      return updated;
    });
  }

  /** Settles when owed, then lets go of the claim; false when something is left for a later sweep. */
  private async finish(session: GroupBuyingSession, token: string): Promise<boolean> {
    let settled: boolean;
    try {
      settled =
        session.settlementState === 'PENDING' ? await this.settle(session, () => this.renew(session.id, token)) : true;
    } catch (error) {
      if (error instanceof ClaimLost) return false;
      this.logger?.warn(
        { err: error, sessionId: session.id },
        'session settlement failed; a later sweep retries after a wait',
      );
      await this.backOff(session.id, token, error);
      return false;
    }
    await this.letGoOfClaim(session.id, token);
    return settled;
  }

  /**
   * The downstream side of a status change. Unpaid invoices are expired first so no new payment
   * arrives while orders or refunds are made; a payment that still slips in bumps settlement_round,
   * and this run then leaves the session PENDING for the next sweep.
   */
  private async settle(session: GroupBuyingSession, renew: () => Promise<void>): Promise<boolean> {
    const sessionId = session.id;
    const round = session.settlementRound;
    const limit = this.config.SETTLEMENT_CHUNK;
    let after: string | undefined;
    do {
      ({ next: after } = await this.client.post<{ next?: string }>('payment', '/api/payments/expire-session', {
        sessionId,
        after,
        limit,
      }));
      await renew();
    } while (after);
    if (session.status === 'FAILED' || session.status === 'CANCELLED') {
      const reason = session.status === 'FAILED' ? 'MOQ_NOT_REACHED' : 'SESSION_CANCELLED';
      for (let more = true; more;) {
        ({ more = false } = await this.client.post<{ more?: boolean }>('payment', '/api/payments/refund-session', {
          sessionId,
          reason,
          limit,
        }));
        await renew();
      }
    } else {
      await this.placeOrders(session, renew);
      if (session.status === 'COMPLETED')
        await this.client.post('payment', '/api/payments/release-escrow', { sessionId });
    }
    const rows = await this.em.execute(
      `update group_buying_sessions
          set settlement_state = 'SETTLED', settled_at = now(), updated_at = now(),
              settlement_attempts = 0, settlement_retry_at = null, settlement_error = null
        where id = ? and settlement_state = 'PENDING' and settlement_round = ? returning id`,
      [sessionId, round],
    );
    return rows.length > 0;
  }

  /**
   * Bulk orders for the paid participants, a chunk at a time in id order (idempotent per participant at
   * order); each chunk's participants become ORDERED in one statement before the claim is renewed.
   */
  private async placeOrders(session: GroupBuyingSession, renew: () => Promise<void>): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const paid = await this.em
        .fork()
        .find(
          GroupParticipant,
          { sessionId: session.id, status: 'PAID', ...(after ? { id: { $gt: after } } : {}) },
          { orderBy: { id: 'asc' }, limit: this.config.SETTLEMENT_CHUNK },
        );
      if (!paid.length) return;
      const { orders } = await this.client.post<{ orders: { orderId: string; participantId: string }[] }>(
        'order',
        '/api/orders/bulk',
        {
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
        },
      );
      // Set-based on purpose: a whole chunk, each with its own order id, in one statement.
      await this.em.execute(
        `update group_participants p set status = 'ORDERED', order_id = placed.order_id, updated_at = now()
           from unnest(array[?]::uuid[], array[?]::uuid[]) as placed(participant_id, order_id)
          where p.id = placed.participant_id and p.session_id = ? and p.status in (?)`,
        [orders.map((o) => o.participantId), orders.map((o) => o.orderId), session.id, ORDERABLE],
      );
      after = paid[paid.length - 1].id;
      await renew();
    }
  }

  /** Extends the claim while working; throws ClaimLost when it lapsed and someone else took the session. */
  private async renew(id: string, token: string): Promise<void> {
    const rows = await this.em.execute(
      `update group_buying_sessions set processing_claimed_at = now() where id = ? and processing_claim = ? returning id`,
      [id, token],
    );
    if (!rows.length) throw new ClaimLost(`The claim on session ${id} lapsed`);
  }

  /** Lets go of a failing session until its next try: 1 s, 2 s, 4 s … up to SETTLEMENT_BACKOFF_MAX_MS. */
  private async backOff(id: string, token: string, error: unknown): Promise<void> {
    await this.em.execute(
      `update group_buying_sessions
          set settlement_attempts = settlement_attempts + 1,
              settlement_retry_at = now() + least(?::float8, ?::float8 * power(2, least(settlement_attempts, 30))) * interval '1 millisecond',
              settlement_error = ?, processing_claim = null, processing_claimed_at = null
        where id = ? and processing_claim = ?`,
      [
        this.config.SETTLEMENT_BACKOFF_MAX_MS,
        FIRST_RETRY_MS,
        String(error instanceof Error ? error.message : error).slice(0, 1000),
        id,
        token,
      ],
    );
  }

  /** Gives up the sweep's claim on the session (not the escrow: that is released in payment). */
  private async letGoOfClaim(id: string, token: string): Promise<void> {
    await this.em.execute(
      `update group_buying_sessions set processing_claim = null, processing_claimed_at = null where id = ? and processing_claim = ?`,
      [id, token],
    );
  }
}

/**
 * A session's outcome, told in the transaction that decided it: one notice per buyer and one to the
 * factory's owner (by factoryId: notification finds the owner), each once per session and outcome.
 */
async function tellOutcome(
  tx: EntityManager,
  session: GroupBuyingSession,
  participants: GroupParticipant[],
  notice: { type: NotificationType; title: string; buyers: string; owner: string },
): Promise<void> {
  for (const participant of participants) {
    await notify(tx, {
      dedupeKey: `group-buying:${session.id}:${notice.type}:${participant.userId}`,
      userId: participant.userId,
      type: notice.type,
      title: notice.title,
      body: notice.buyers,
      data: { sessionId: session.id, participantId: participant.id },
    });
  }
  await notify(tx, {
    dedupeKey: `group-buying:${session.id}:${session.status}:owner`,
    factoryId: session.factoryId,
    type: notice.type,
    title: notice.title,
    body: notice.owner,
    data: { sessionId: session.id, status: session.status, paidQuantity: session.paidQuantity, moq: session.moq },
  });
}

/** The built-in scheduler: a sweep every EXPIRY_SWEEP_MS, and straight again while batches come back full. */
export function startExpiryScheduler(deps: SubgraphDeps): BackgroundTask {
  return startPeriodicTask(
    'expiry sweep',
    deps.config.EXPIRY_SWEEP_MS,
    async (stopped) => {
      while (!stopped()) {
        const processed = await new SessionSettlement(
          deps.orm.em.fork(),
          deps.client,
          deps.config,
          deps.logger,
        ).processExpired();
        if (processed.length < CLAIM_BATCH || processed.some((p) => !p.settled)) return;
      }
    },
    deps.logger,
  );
}
