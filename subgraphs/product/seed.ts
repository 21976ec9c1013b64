import type { EntityManager } from '@mikro-orm/postgresql';
import { DEMO_CATEGORIES, DEMO_PRODUCTS } from '../../lib/demo-data';
import { Category } from './entities/category.entity';
import { Product } from './entities/product.entity';
import { Variant } from './entities/variant.entity';

/** Demo catalog; upserts by fixed id so every start leaves exactly one copy. */
export async function seedCatalog(em: EntityManager): Promise<void> {
  for (const category of DEMO_CATEGORIES) {
    await em.upsert(Category, { id: category.id, name: category.name, parentId: category.parentId });
  }
  for (const { variants, ...product } of DEMO_PRODUCTS) {
    await em.upsert(Product, { ...product, currency: 'IDR' });
    for (const variant of variants) await em.upsert(Variant, { ...variant, productId: product.id });
  }
}
