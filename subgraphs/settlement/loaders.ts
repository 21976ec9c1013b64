import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubgraphContext } from '../../lib/context';
import { PayoutAccount } from './entities/payout-account.entity';

/** Payout accounts of the factories in one response, read together (keyed by factory id). */
export function createLoaders(em: EntityManager) {
  return {
    payoutAccount: new DataLoader<string, PayoutAccount | null>(async (factoryIds) => {
      const accounts = await em.find(PayoutAccount, { factoryId: { $in: [...factoryIds] } });
      const byFactory = new Map(accounts.map((account) => [account.factoryId, account]));
      return factoryIds.map((id) => byFactory.get(id) ?? null);
    }),
  };
}

export type SettlementContext = SubgraphContext<ReturnType<typeof createLoaders>>;
