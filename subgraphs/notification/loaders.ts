import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Notification } from './entities/notification.entity';

export function createLoaders(em: EntityManager) {
  return {
    notification: entityLoader(em, Notification),
  };
}

export type NotificationContext = SubgraphContext<ReturnType<typeof createLoaders>>;
