import type { InternalClient } from './internal-client';
import type { Caller } from './internal-auth';
import { forbidden } from './errors';

export const ownedFactoriesPath = (userId: string) => `/api/factories/owned-by/${userId}`;

/**
 * Who may manage a factory's sessions, products, stock, orders and payouts: an admin, or whoever owns it
 * now according to the factory subgraph. Ownership is asked, never read from the caller's role, so an owner
 * can act the moment createFactory answered (the role feed catches up later). One lookup per user per
 * instance: build one per request.
 */
export class FactoryAccess {
  private readonly owned = new Map<string, Promise<string[]>>();

  constructor(private readonly client: InternalClient) {}

  factoriesOwnedBy(userId: string): Promise<string[]> {
    let factoryIds = this.owned.get(userId);
    if (!factoryIds) {
      factoryIds = this.client
        .get<{ factoryIds: string[] }>('factory', ownedFactoriesPath(userId))
        .then((answer) => answer.factoryIds);
      this.owned.set(userId, factoryIds);
    }
    return factoryIds;
  }

  async canManage(caller: Caller, factoryId: string): Promise<boolean> {
    if (caller.role === 'ADMIN') return true;
    return (await this.factoriesOwnedBy(caller.userId)).includes(factoryId);
  }

  async assertCanManage(caller: Caller, factoryId: string, what = 'this factory'): Promise<void> {
    if (!(await this.canManage(caller, factoryId)))
      throw forbidden(`Only the owner of ${what} or an admin may do this`);
  }

  /** For what belongs to a factory owner rather than to one factory (warehouses, categories): owns at least one. */
  async assertOwnsAny(caller: Caller, what: string): Promise<void> {
    if (caller.role === 'ADMIN') return;
    if (!(await this.factoriesOwnedBy(caller.userId)).length)
      throw forbidden(`Only a factory owner or an admin may ${what}`);
  }
}
