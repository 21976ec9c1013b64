import { z } from 'zod';
import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { AppError, badInput, conflict, forbidden, isAppError, isUniqueViolation, notFound } from '../../lib/errors';
import { idSchema, parseInput, rupiah } from '../../lib/validation';
import { assertRepresentableAmount } from '../../lib/money';
import { paginate, type PageArgs } from '../../lib/pagination';
import { assertTransition, claimed, statesLeadingTo, transition } from '../../lib/state-machine';
import { abandonPaymentOf } from '../../lib/abandoned-payment';
import type { Caller } from '../../lib/internal-auth';
import type { Config } from '../../lib/config';
import type { InternalClient } from '../../lib/internal-client';
import { FactoryAccess } from '../../lib/factory-access';
import { enqueue } from '../../lib/outbox';
import type { Logger } from '../../lib/logger';
import { isId } from '../../lib/ids';
import {
  PARTICIPANT_TRANSITIONS,
  remainingQuantity,
  SESSION_STATUSES,
  SESSION_TRANSITIONS,
  type SessionStatus,
} from './states';
import { addPaid, giveRoomBack, publishProgress, takeRoom } from './session-store';
import { productPath, type ProductSnapshot } from '../../lib/contracts/product';
import { addressPath, type AddressSnapshot } from '../../lib/contracts/address';
import { asFieldInput } from '../../lib/downstream';
import { SessionSettlement } from './settlement';

const YEAR_MS = 366 * 24 * 3600 * 1000;

const createSessionSchema = z
  .object({
    productId: idSchema,
    variantId: idSchema,
    moq: z.number().int().min(1, 'must be at least 1').max(1_000_000),
    groupPrice: rupiah,
    endsAt: z.coerce
      .date()
      .refine((date) => date.getTime() > Date.now(), 'must be in the future')
      .refine((date) => date.getTime() < Date.now() + YEAR_MS, 'must be within a year'),
    maxQuantity: z.number().int().max(10_000_000).nullish(),
  })
  .refine((input) => input.maxQuantity == null || input.maxQuantity >= input.moq, {
    message: 'must be at least moq',
    path: ['maxQuantity'],
  });

const joinSchema = z.object({
  sessionId: idSchema,
  quantity: z.number().int().min(1, 'must be at least 1').max(1_000_000),
  addressId: idSchema,
  refundTo: z.enum(['ORIGINAL_METHOD', 'WALLET']).nullish(),
});

const paymentStatusSchema = z.object({
  participantId: idSchema,
  sessionId: idSchema,
  paymentId: idSchema,
  status: z.enum(['PAID', 'EXPIRED', 'REFUNDED']),
});

export interface SessionFilter {
  status?: SessionStatus | null;
  productId?: string | null;
  factoryId?: string | null;
}

export interface JoinResult {
  participant: GroupParticipant;
  payment: { id: string };
  paymentUrl: string;
}

interface EscrowPayment {
  id: string;
  status: string;
  invoiceUrl: string;
  amount: number;
}

/** Unpaid places one hold sweep gives back at a time. */
const UNPAID_SWEEP_BATCH = 500;

/** The participant states whose hold can run out. */
const EXPIRABLE = statesLeadingTo(PARTICIPANT_TRANSITIONS, 'EXPIRED');

/** Sessions and joins: the rules of API.md "Group buying" over this subgraph's database. */
export class GroupBuyingService {
  private readonly access: FactoryAccess;

  constructor(
    private readonly em: EntityManager,
    private readonly client: InternalClient,
    private readonly config: Config,
    private readonly logger?: Logger,
  ) {
    this.access = new FactoryAccess(client);
  }

  session(id: string): Promise<GroupBuyingSession | null> {
    return isId(id) ? this.em.findOne(GroupBuyingSession, { id }) : Promise.resolve(null);
  }

  async requireSession(id: string): Promise<GroupBuyingSession> {
    const session = await this.session(id);
    if (!session) throw notFound('No group-buying session with this id');
    return session;
  }

  listSessions(filter: SessionFilter, page: PageArgs) {
    const where: Record<string, unknown> = {};
    if (filter.status) where.status = SESSION_STATUSES.includes(filter.status) ? filter.status : null;
    if (filter.productId) where.productId = isId(filter.productId) ? filter.productId : null;
    if (filter.factoryId) where.factoryId = isId(filter.factoryId) ? filter.factoryId : null;
    return paginate(this.em, GroupBuyingSession, where, page, { newestFirst: true });
  }

  /** Opens a session in FORMING; only the owner of the product's factory (or an admin) may. */
  async createSession(caller: Caller, input: unknown): Promise<GroupBuyingSession> {
    const parsed = parseInput(createSessionSchema, input);
    const product = await asFieldInput(
      this.client.get<ProductSnapshot>('product', productPath(parsed.productId)),
      'productId: no such product',
    );
    if (!product.variants.some((variant) => variant.id === parsed.variantId)) {
      throw badInput('variantId: not a variant of this product');
    }
    await this.authorizeFactory(caller, product.factoryId, 'open group-buying sessions for its products');
    const session = this.em.create(GroupBuyingSession, {
      productId: product.id,
      variantId: parsed.variantId,
      factoryId: product.factoryId,
      createdBy: caller.userId,
      moq: parsed.moq,
      groupPrice: parsed.groupPrice,
      endsAt: parsed.endsAt,
      maxQuantity: parsed.maxQuantity ?? null,
    });
    await this.em.persistAndFlush(session);
    return session;
  }

  /**
   * A place in the session, then its escrow invoice. The place is taken in one transaction (participant
   * row, unique per session and user, plus a guarded counter update that keeps joined ≤ max under any
   * concurrency); if the invoice cannot be opened the place is given back. The place is held unpaid for
   * UNPAID_HOLD_MINUTES at most (the invoice expires then too), and a buyer holds at most
   * MAX_UNPAID_ORDERS unpaid places across sessions.
   */
  async joinSession(caller: Caller, input: unknown): Promise<JoinResult> {
    const { sessionId, quantity, addressId, refundTo } = parseInput(joinSchema, input);
    const session = await this.requireSession(sessionId);
    assertOpen(session);
    assertRoomFor(session, quantity);
    assertRepresentableAmount('quantity', session.groupPrice * quantity);
    if (await this.em.count(GroupParticipant, { sessionId, userId: caller.userId, status: { $ne: 'EXPIRED' } })) {
      throw conflict('You have already joined this session');
    }
    await this.assertUnpaidBelowLimit(this.em, caller.userId);
    await this.requireOwnAddress(caller, addressId);

    const participant = await this.takePlace(session, caller, {
      quantity,
      addressId,
      refundTo: refundTo ?? 'ORIGINAL_METHOD',
    });
    let payment: EscrowPayment;
    try {
      payment = await this.client.post<EscrowPayment>('payment', '/api/payments/escrow', {
        sessionId,
        participantId: participant.id,
        userId: caller.userId,
        factoryId: session.factoryId,
        amount: participant.amount,
        expiresAt: new Date(
          Math.min(session.endsAt.getTime(), participant.createdAt.getTime() + this.holdMs),
        ).toISOString(),
        description: `Group buy ${sessionId}: ${quantity} × Rp${session.groupPrice}`,
        refundTo: participant.refundTo,
      });
    } catch (error) {
      // A refusal (4xx) made no payment; after a timeout or 5xx one may exist, so it is abandoned too.
      await this.givePlaceBack(participant, !isAppError(error));
      if (isAppError(error)) throw error;
      this.logger?.error(
        { err: error, sessionId, participantId: participant.id },
        'escrow payment failed; join undone',
      );
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        'Payments are unavailable right now, so you have not joined; please try again',
      );
    }
    await this.em.nativeUpdate(
      GroupParticipant,
      { id: participant.id },
      { paymentId: payment.id, paymentUrl: payment.invoiceUrl },
    );
    participant.paymentId = payment.id;
    participant.paymentUrl = payment.invoiceUrl;
    return { participant, payment: { id: payment.id }, paymentUrl: payment.invoiceUrl };
  }

  /** FORMING → CANCELLED, then the same refunds as a failed session (resumable by the scheduler). */
  async cancelSession(caller: Caller, sessionId: string): Promise<GroupBuyingSession> {
    const session = await this.requireSession(sessionId);
    await this.authorizeFactory(caller, session.factoryId, 'cancel its sessions');
    assertTransition(SESSION_TRANSITIONS, session.status, 'CANCELLED', 'session status');
    return new SessionSettlement(this.em, this.client, this.config, this.logger).cancel(session);
  }

  /** MOQ_REACHED → IN_PRODUCTION, once every bulk order is placed. */
  async startProduction(caller: Caller, sessionId: string): Promise<GroupBuyingSession> {
    const session = await this.requireSession(sessionId);
    await this.authorizeFactory(caller, session.factoryId, 'start production');
    assertTransition(SESSION_TRANSITIONS, session.status, 'IN_PRODUCTION', 'session status');
    if (session.settlementState !== 'SETTLED') {
      throw conflict('The bulk orders of this session are still being placed; try again in a moment');
    }
    return this.em.transactional(async (tx) => {
      const updated = await transition(tx, GroupBuyingSession, sessionId, 'IN_PRODUCTION', {
        table: SESSION_TRANSITIONS,
        where: { settlementState: 'SETTLED' },
        effects: publishProgress,
      });
      return claimed(updated, 'The session changed meanwhile; reload it');
    });
  }

  /**
   * IN_PRODUCTION → COMPLETED: the escrow is released first (idempotent per session, so a retry after a
   * failure is safe), then the status flips and the shipments are queued for logistics.
   */
  async completeProduction(caller: Caller, sessionId: string): Promise<GroupBuyingSession> {
    const session = await this.requireSession(sessionId);
    await this.authorizeFactory(caller, session.factoryId, 'complete production');
    assertTransition(SESSION_TRANSITIONS, session.status, 'COMPLETED', 'session status');
    try {
      await this.client.post('payment', '/api/payments/release-escrow', { sessionId });
    } catch (error) {
      if (isAppError(error)) throw error;
      this.logger?.error({ err: error, sessionId }, 'escrow release failed');
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        'Payments are unavailable right now, so production is not marked complete; please try again',
      );
    }
    return this.em.transactional(async (tx) => {
      const updated = claimed(
        await transition(tx, GroupBuyingSession, sessionId, 'COMPLETED', {
          table: SESSION_TRANSITIONS,
          effects: publishProgress,
        }),
        'The session changed meanwhile; reload it',
      );
      const ordered = await tx.find(
        GroupParticipant,
        { sessionId, status: 'ORDERED', orderId: { $ne: null } },
        { orderBy: { id: 'asc' } },
      );
      if (ordered.length) {
        await enqueue(tx, {
          dedupeKey: `group-buying:${sessionId}:shipments`,
          service: 'logistics',
          path: '/api/shipments/bulk',
          body: {
            shipments: ordered.map((p) => ({
              orderId: p.orderId,
              userId: p.userId,
              factoryId: updated.factoryId,
              addressId: p.addressId,
            })),
          },
        });
      }
      return updated;
    });
  }

  /**
   * Payment's callback (docs/internal-api.md). Each status is an atomic claim from the states the table
   * allows, so a replay changes nothing; PAID adds to the paid quantity and tells subscribers, EXPIRED
   * frees the place. REFUNDED (a failed or cancelled session, or the factory cancelled the bulk order while the
   * escrow was held) changes no quantity: once the session is decided, its paid quantity is the history that
   * decided it.
   */
  async applyPaymentStatus(input: unknown): Promise<{ participantId: string; status: string; changed: boolean }> {
    const { participantId, sessionId, paymentId, status } = parseInput(paymentStatusSchema, input);
    return this.em.transactional(async (tx) => {
      const moved = await transition(tx, GroupParticipant, participantId, status, {
        table: PARTICIPANT_TRANSITIONS,
        where: { sessionId },
        // The payment id joinSession recorded stays; a callback that overtook it records it.
        set: {
          paymentId: raw<GroupParticipant, string>('coalesce(payment_id, ?)', [paymentId]),
          ...(status === 'PAID' && { paidAt: new Date() }),
        },
        effects: async (inner, participant) => {
          if (status === 'PAID') {
            const session = await addPaid(inner, sessionId, participant.quantity);
            if (session) await publishProgress(inner, session);
          } else if (status === 'EXPIRED') {
            await giveRoomBack(inner, sessionId, { quantity: participant.quantity, places: 1 });
          }
        },
      });
      if (!moved) {
        const participant = await tx.findOne(GroupParticipant, { id: participantId, sessionId });
        if (participant) return { participantId, status: participant.status, changed: false };
        // No such place: its join was undone after a create-payment call went unanswered, and payment was asked
        // to abandon that payment. Its expiry gives nothing back; money paid on it is payment's to refund, and a
        // 404 would only be retried for ever.
        if (status === 'EXPIRED') return { participantId, status, changed: false };
        throw conflict('No participant with this id in this session: its join was undone');
      }
      return { participantId, status, changed: true };
    });
  }

  /**
   * Gives back every place still unpaid UNPAID_HOLD_MINUTES after it was taken: one claim per batch
   * (`UPDATE … WHERE status = 'PENDING_PAYMENT' AND created_at < …`), the quantities return to their
   * sessions with a progress event, and payment is asked (outbox) to expire the invoice at Xendit. A
   * payment that lands meanwhile is payment's to settle. Answers how many places were given back.
   */
  async expireUnpaidPlaces(): Promise<number> {
    return this.em.transactional(async (tx) => {
      const expired: { id: string; session_id: string; quantity: number; payment_id: string | null }[] =
        await tx.execute(
          // Set-based on purpose: a batch of oldest places, skipping those another sweep holds, in one statement.
          `update group_participants set status = 'EXPIRED', updated_at = now()
          where id in (
            select id from group_participants
             where status in (?) and created_at < now() - ?::float8 * interval '1 millisecond'
             order by created_at
             limit ${UNPAID_SWEEP_BATCH}
             for update skip locked)
            and status in (?)
          returning id, session_id, quantity, payment_id`,
          [EXPIRABLE, this.holdMs, EXPIRABLE],
        );
      const returned = new Map<string, { quantity: number; places: number }>();
      for (const place of expired) {
        const session = returned.get(place.session_id) ?? { quantity: 0, places: 0 };
        returned.set(place.session_id, {
          quantity: session.quantity + Number(place.quantity),
          places: session.places + 1,
        });
        // A create call long finished can be abandoned at once; one still unanswered gets its settle time.
        await abandonPaymentOf(tx, this.client, { participantId: place.id }, place.payment_id ? new Date() : undefined);
      }
      for (const [sessionId, { quantity, places }] of [...returned].sort(([a], [b]) => a.localeCompare(b))) {
        const session = await giveRoomBack(tx, sessionId, { quantity, places });
        if (session) await publishProgress(tx, session);
      }
      return expired.length;
    });
  }

  private get holdMs(): number {
    return this.config.UNPAID_HOLD_MINUTES * 60_000;
  }

  /** Each service counts its own unpaid items: here, places not yet paid, in any session. */
  private async assertUnpaidBelowLimit(em: EntityManager, userId: string): Promise<void> {
    const unpaid = await em.count(GroupParticipant, { userId, status: 'PENDING_PAYMENT' });
    if (unpaid >= this.config.MAX_UNPAID_ORDERS) {
      throw conflict(
        `You already have ${unpaid} unpaid group-buying places (at most ${this.config.MAX_UNPAID_ORDERS}); pay one of them or let it expire first`,
      );
    }
  }

  private async takePlace(
    session: GroupBuyingSession,
    caller: Caller,
    place: { quantity: number; addressId: string; refundTo: 'ORIGINAL_METHOD' | 'WALLET' },
  ): Promise<GroupParticipant> {
    try {
      return await this.em.transactional(async (tx) => {
        // Serialises one buyer's joins, so concurrent ones cannot all pass the unpaid limit.
        await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`unpaid-places:${caller.userId}`]);
        await this.assertUnpaidBelowLimit(tx, caller.userId);
        const participant = tx.create(GroupParticipant, {
          sessionId: session.id,
          userId: caller.userId,
          quantity: place.quantity,
          unitPrice: session.groupPrice,
          amount: session.groupPrice * place.quantity,
          addressId: place.addressId,
          refundTo: place.refundTo,
        });
        await tx.flush();
        const updated = await takeRoom(tx, session.id, place.quantity);
        if (!updated) {
          const current = await tx.findOneOrFail(GroupBuyingSession, { id: session.id }, { refresh: true });
          assertOpen(current);
          assertRoomFor(current, place.quantity);
          throw conflict('The session changed meanwhile; try again');
        }
        return participant;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('You have already joined this session');
      throw error;
    }
  }

  private async givePlaceBack(participant: GroupParticipant, abandonPayment: boolean): Promise<void> {
    await this.em.transactional(async (tx) => {
      if (abandonPayment) await abandonPaymentOf(tx, this.client, { participantId: participant.id });
      const rows = await tx.execute(
        `delete from group_participants where id = ? and status = 'PENDING_PAYMENT' and payment_id is null returning quantity`,
        [participant.id],
      );
      if (rows.length) {
        await giveRoomBack(tx, participant.sessionId, { quantity: participant.quantity, places: 1 });
      }
    });
  }

  private async requireOwnAddress(caller: Caller, addressId: string): Promise<void> {
    const notYours = 'addressId: not one of your addresses';
    const address = await asFieldInput(this.client.get<AddressSnapshot>('address', addressPath(addressId)), notYours);
    if (address.userId !== caller.userId) throw badInput(notYours);
  }

  /** The factory's owner (per the factory subgraph, not the caller's role), or an admin. */
  private async authorizeFactory(caller: Caller, factoryId: string, action: string): Promise<void> {
    if (!(await this.access.canManage(caller, factoryId)))
      throw forbidden(`Only the owner of this factory can ${action}`);
  }
}

function assertOpen(session: GroupBuyingSession): void {
  if (session.status !== 'FORMING') throw conflict(`This session is closed (${session.status})`);
  if (session.endsAt.getTime() <= Date.now()) throw conflict('This session has ended');
}

function assertRoomFor(session: GroupBuyingSession, quantity: number): void {
  const left = remainingQuantity(session.maxQuantity, session.joinedQuantity);
  if (left !== null && quantity > left) {
    throw badInput(`quantity: only ${left} left in this session`, { fields: ['quantity'] });
  }
}
