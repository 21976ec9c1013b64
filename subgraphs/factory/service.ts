import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Factory } from './entities/factory.entity';
import { forbidden, notFound } from '../../lib/errors';
import { nonEmpty, parseInput, optionalText } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import type { Caller } from '../../lib/internal-auth';
import { enqueue } from '../../lib/outbox';
import { isId } from '../../lib/ids';
import type { FactorySnapshot } from '../../lib/contracts/seller';
import { authUserRolePath } from '../../lib/contracts/auth';

/** Blank text means "no description", not an empty one. */
const description = optionalText(5000);

export const createFactorySchema = z.object({ name: nonEmpty(200), city: nonEmpty(120), description });

/** Every field optional; a required field given as null is refused by its schema. */
export const updateFactorySchema = z.object({
  name: nonEmpty(200).optional(),
  city: nonEmpty(120).optional(),
  description: description.optional(),
});

export class FactoryService {
  constructor(private readonly em: EntityManager) {}

  async factory(id: string): Promise<Factory | null> {
    if (!isId(id)) return null;
    return this.em.findOne(Factory, { id });
  }

  listFactories(page: PageArgs) {
    return paginate(this.em, Factory, {}, page);
  }

  ownedBy(userId: string): Promise<Factory[]> {
    if (!isId(userId)) return Promise.resolve([]);
    return this.em.find(Factory, { ownerId: userId }, { orderBy: { id: 'asc' } });
  }

  /**
   * The caller becomes the owner. The role change goes through the outbox in the same transaction, so
   * a factory never exists without its owner eventually being promoted, even while auth is down.
   */
  async createFactory(caller: Caller, input: unknown): Promise<Factory> {
    const parsed = parseInput(createFactorySchema, input);
    return this.em.transactional(async (em) => {
      const factory = em.create(Factory, { ...parsed, ownerId: caller.userId });
      await enqueue(em, {
        dedupeKey: `promote-owner:${caller.userId}`,
        service: 'auth',
        path: authUserRolePath(caller.userId),
        body: { role: 'FACTORY_OWNER' },
      });
      return factory;
    });
  }

  async updateFactory(caller: Caller, id: string, input: unknown): Promise<Factory> {
    const patch = parseInput(updateFactorySchema, input);
    const factory = await this.factory(id);
    if (!factory) throw notFound('No factory with this id');
    if (caller.role !== 'ADMIN' && factory.ownerId !== caller.userId) {
      throw forbidden('Only the owner of this factory can change it');
    }
    if (patch.name !== undefined) factory.name = patch.name;
    if (patch.city !== undefined) factory.city = patch.city;
    if (patch.description !== undefined) factory.description = patch.description;
    await this.em.flush();
    return factory;
  }

  /** Admins only. One conditional update, so a repeat or a concurrent call answers the same verified factory. */
  async verifyFactory(caller: Caller, id: string): Promise<Factory> {
    if (caller.role !== 'ADMIN') throw forbidden('Only an admin can verify a factory');
    if (!isId(id)) throw notFound('No factory with this id');
    await this.em.nativeUpdate(Factory, { id, verified: false }, { verified: true });
    const factory = await this.em.findOne(Factory, { id }, { refresh: true });
    if (!factory) throw notFound('No factory with this id');
    return factory;
  }

  /** GET /api/factories/:id: what other services need of a factory. */
  async snapshot(id: string): Promise<FactorySnapshot> {
    const factory = await this.factory(id);
    if (!factory) throw notFound('No factory with this id');
    return {
      id: factory.id,
      ownerId: factory.ownerId,
      name: factory.name,
      city: factory.city,
      verified: factory.verified,
    };
  }
}
