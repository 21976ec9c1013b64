import type { EntityManager } from '@mikro-orm/postgresql';
import { entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Address } from './entities/address.entity';

export function createLoaders(em: EntityManager) {
  return {
    address: entityLoader(em, Address),
  };
}

export type AddressContext = SubgraphContext<ReturnType<typeof createLoaders>>;
