import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubgraphContext } from '../../lib/context';

/** Nothing to batch: a request reads one wallet, the caller's. */
export function createLoaders(_em: EntityManager) {
  return {};
}

export type WalletContext = SubgraphContext<ReturnType<typeof createLoaders>>;
