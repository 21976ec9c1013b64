import type { EntityManager } from '@mikro-orm/postgresql';
import { DEMO_FACTORIES } from '../../lib/demo-data';
import { Factory } from './entities/factory.entity';

/** Demo factories, verified (so the demo can pay out); upserts by fixed id so every start leaves exactly one copy. */
export async function seedFactories(em: EntityManager): Promise<void> {
  for (const factory of DEMO_FACTORIES) await em.upsert(Factory, { ...factory, verified: true });
}
