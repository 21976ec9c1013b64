import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubgraphContext } from '../../lib/context';
import { FactoryAccess } from '../../lib/factory-access';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { PayoutAccount } from './entities/payout-account.entity';
import type { PayoutGateway } from './xendit';

/** What settlement builds once at start (index.ts): its gateway to Xendit Payouts. */
export interface SettlementServices {
  gateway: PayoutGateway;
}

/**
 * Per request: one ownership lookup however many factory fields ask, and the payout accounts of the factories
 * in one response read together (keyed by factory id).
 */
export function createLoaders(em: EntityManager, { client }: SubgraphDeps) {
  return {
    factoryAccess: new FactoryAccess(client),
    payoutAccount: new DataLoader<string, PayoutAccount | null>(async (factoryIds) => {
      const accounts = await em.find(PayoutAccount, { factoryId: { $in: [...factoryIds] } });
      const byFactory = new Map(accounts.map((account) => [account.factoryId, account]));
      return factoryIds.map((id) => byFactory.get(id) ?? null);
    }),
  };
}

export type SettlementContext = SubgraphContext<ReturnType<typeof createLoaders>> & { services: SettlementServices };
