import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';

/** Key of a buyer's place: `<sessionId>:<userId>`. */
export const participationKey = (sessionId: string, userId: string) => `${sessionId}:${userId}`;

export function createLoaders(em: EntityManager) {
  return {
    session: entityLoader(em, GroupBuyingSession),
    /** One query for every myParticipation in a response (a page of sessions). */
    participation: new DataLoader<string, GroupParticipant | null>(async (keys) => {
      const pairs = keys.map((key) => key.split(':'));
      // Oldest first, so a place taken again after an expired one is the one answered.
      const rows = await em.find(
        GroupParticipant,
        {
          sessionId: { $in: [...new Set(pairs.map(([sessionId]) => sessionId))] },
          userId: { $in: [...new Set(pairs.map(([, userId]) => userId))] },
        },
        { orderBy: { id: 'asc' } },
      );
      const byKey = new Map(rows.map((row) => [participationKey(row.sessionId, row.userId), row]));
      return keys.map((key) => byKey.get(key) ?? null);
    }),
  };
}

export type GroupBuyingContext = SubgraphContext<ReturnType<typeof createLoaders>>;
