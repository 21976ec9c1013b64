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

/**
 * `UPDATE group_buying_sessions SET … WHERE … RETURNING *` as an entity, or null when no row matched:
 * the atomic claims and counter changes that must not be read-modify-write.
 */
export async function updateSession(
  em: EntityManager,
  set: string,
  where: string,
  params: unknown[],
): Promise<GroupBuyingSession | null> {
  const rows = await em.execute(
    `update group_buying_sessions set ${set}, updated_at = now() where ${where} returning *`,
    params,
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
