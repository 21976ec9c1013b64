import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { User } from './entities/user.entity';

export function createLoaders(em: EntityManager) {
  return {
    user: entityLoader(em, User),
  };
}

export type AuthContext = SubgraphContext<ReturnType<typeof createLoaders>>;
