import type { EntityManager } from '@mikro-orm/postgresql';
import { childrenLoader, entityLoader } from '../../lib/loaders';
import type { SubgraphContext } from '../../lib/context';
import { Category } from './entities/category.entity';
import { Product } from './entities/product.entity';
import { Variant } from './entities/variant.entity';

export function createLoaders(em: EntityManager) {
  return {
    product: entityLoader(em, Product),
    category: entityLoader(em, Category),
    variant: entityLoader(em, Variant),
    variantsByProduct: childrenLoader(em, Variant, 'productId'),
  };
}

export type ProductContext = SubgraphContext<ReturnType<typeof createLoaders>>;
