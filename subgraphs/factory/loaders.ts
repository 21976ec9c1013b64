import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Factory } from './entities/factory.entity';

export function createLoaders(em: EntityManager) {
  return {
    factory: entityLoader(em, Factory),
  };
}

export type FactoryContext = SubgraphContext<ReturnType<typeof createLoaders>>;
