import type { EntityManager } from '@mikro-orm/postgresql';
import { publishOnCommit } from '../../lib/events';
import { GroupBuyingSession } from './entities/group-buying-session.entity';

/** LISTEN/NOTIFY channel of groupBuyingSessionProgress (docs/internal-api.md, Events). */
export const SESSION_PROGRESS = 'session_progress';

/** What subscribers receive: the session as it was when the change committed. */
export interface SessionProgressEvent {
  id: string;
  status: GroupBuyingSession['status'];
  paidQuantity: number;
  joinedQuantity: number;
  participantsCount: number;
  moq: number;
  groupPrice: number;
  endsAt: string;
  maxQuantity: number | null;
  productId: string;
  variantId: string;
  factoryId: string;
  createdAt: string;
}

/*
 * The session's counters, each changed in one `UPDATE … RETURNING *` (never read-modify-write); status moves go
 * through transition() instead. Each answers the session as changed, or null when no row matched.
 */

/**
 * Takes room for a new place: only while the session is FORMING, not ended and (with a maximum) has room,
 * so joined never exceeds the maximum under any concurrency. Null when the session refused.
 */
export async function takeRoom(
  em: EntityManager,
  sessionId: string,
  quantity: number,
): Promise<GroupBuyingSession | null> {
  const rows = await em.execute(
    `update group_buying_sessions
        set joined_quantity = joined_quantity + ?, participants_count = participants_count + 1, updated_at = now()
      where id = ? and status = 'FORMING' and ends_at > now()
        and (max_quantity is null or joined_quantity + ? <= max_quantity)
      returning *`,
    [quantity, sessionId, quantity],
  );
  return rows.length ? em.map(GroupBuyingSession, rows[0]) : null;
}

/** Gives back the room of places that expired or were never paid for. */
export async function giveRoomBack(
  em: EntityManager,
  sessionId: string,
  returned: { quantity: number; places: number },
): Promise<GroupBuyingSession | null> {
  const rows = await em.execute(
    `update group_buying_sessions
        set joined_quantity = joined_quantity - ?, participants_count = participants_count - ?, updated_at = now()
      where id = ?
      returning *`,
    [returned.quantity, returned.places, sessionId],
  );
  return rows.length ? em.map(GroupBuyingSession, rows[0]) : null;
}

/** Counts a paid place; one paid after the session left FORMING reopens its settlement (order or refund it too). */
export async function addPaid(
  em: EntityManager,
  sessionId: string,
  quantity: number,
): Promise<GroupBuyingSession | null> {
  const rows = await em.execute(
    `update group_buying_sessions
        set paid_quantity = paid_quantity + ?,
            settlement_state = case when status = 'FORMING' then settlement_state else 'PENDING' end,
            settlement_round = settlement_round + case when status = 'FORMING' then 0 else 1 end,
            updated_at = now()
      where id = ?
      returning *`,
    [quantity, sessionId],
  );
  return rows.length ? em.map(GroupBuyingSession, rows[0]) : null;
}

export function progressEvent(session: GroupBuyingSession): SessionProgressEvent {
  return {
    id: session.id,
    status: session.status,
    paidQuantity: session.paidQuantity,
    joinedQuantity: session.joinedQuantity,
    participantsCount: session.participantsCount,
    moq: session.moq,
    groupPrice: session.groupPrice,
    endsAt: session.endsAt.toISOString(),
    maxQuantity: session.maxQuantity ?? null,
    productId: session.productId,
    variantId: session.variantId,
    factoryId: session.factoryId,
    createdAt: session.createdAt.toISOString(),
  };
}

/** The session an event describes, for the subscription's field resolvers. */
export function sessionFromEvent(event: SessionProgressEvent): GroupBuyingSession {
  return Object.assign(new GroupBuyingSession(), {
    ...event,
    endsAt: new Date(event.endsAt),
    createdAt: new Date(event.createdAt),
  });
}

/** Call inside the transaction that changed paid quantity or status. */
export function publishProgress(em: EntityManager, session: GroupBuyingSession): Promise<void> {
  return publishOnCommit(em, SESSION_PROGRESS, { ...progressEvent(session) });
}
