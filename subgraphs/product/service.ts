import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Category } from './entities/category.entity';
import { Product } from './entities/product.entity';
import { Variant } from './entities/variant.entity';
import { badInput, conflict, isUniqueViolation, notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput, rupiah } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import type { Caller } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import { FactoryAccess } from '../../lib/factory-access';
import { factoryPath, type FactorySnapshot } from '../../lib/contracts/seller';
import type { ProductSnapshot } from '../../lib/contracts/product';
import { isId } from '../../lib/ids';

const createCategorySchema = z.object({ name: nonEmpty(120), parentId: idSchema.nullish() });

const createProductSchema = z.object({
  factoryId: idSchema,
  categoryId: idSchema,
  name: nonEmpty(200),
  description: z.string().max(5000).nullish(),
  basePrice: rupiah,
  variants: z
    .array(z.object({ sku: nonEmpty(64), name: nonEmpty(200), price: rupiah }))
    .min(1, 'a product needs at least one variant')
    .max(100),
});

export interface ProductFilter {
  search?: string | null;
  categoryId?: string | null;
  factoryId?: string | null;
}

export class CatalogService {
  private factoryAccess?: FactoryAccess;

  constructor(
    private readonly em: EntityManager,
    private readonly client?: InternalClient,
  ) {}

  categories(): Promise<Category[]> {
    return this.em.find(Category, {}, { orderBy: { name: 'asc' } });
  }

  /**
   * Admins and factory owners: the FACTORY_OWNER role, or (while the role feed has not caught up with a
   * createFactory) a factory of one's own per the factory subgraph.
   */
  async createCategory(caller: Caller, input: unknown): Promise<Category> {
    const { name, parentId } = parseInput(createCategorySchema, input);
    if (caller.role !== 'FACTORY_OWNER') await this.access().assertOwnsAny(caller, 'create categories');
    if (parentId && !(await this.em.findOne(Category, { id: parentId }))) throw badInput('parentId: no such category');
    const category = this.em.create(Category, { name, parentId: parentId ?? null });
    await this.em.persistAndFlush(category);
    return category;
  }

  async product(id: string): Promise<Product | null> {
    if (!isId(id)) return null;
    return this.em.findOne(Product, { id });
  }

  listProducts(filter: ProductFilter, page: PageArgs) {
    const where: Record<string, unknown> = {};
    if (filter.search?.trim()) where.name = { $ilike: `%${filter.search.trim().replace(/[%_\\]/g, '\\$&')}%` };
    if (filter.categoryId) where.categoryId = isId(filter.categoryId) ? filter.categoryId : null;
    if (filter.factoryId) where.factoryId = isId(filter.factoryId) ? filter.factoryId : null;
    return paginate(this.em, Product, where, page);
  }

  /** Only the owner of the factory (per the factory subgraph, not the role) or an admin may add products to it. */
  async createProduct(caller: Caller, input: unknown): Promise<Product> {
    const parsed = parseInput(createProductSchema, input);
    const skus = parsed.variants.map((v) => v.sku);
    if (new Set(skus).size !== skus.length) throw badInput('variants: SKUs must be unique');
    if (!(await this.em.findOne(Category, { id: parsed.categoryId }))) throw badInput('categoryId: no such category');
    // An owner's factory exists; anyone else learns first whether it does (NOT_FOUND), then may be refused.
    if (caller.role === 'ADMIN' || !(await this.access().canManage(caller, parsed.factoryId))) {
      await this.requireClient().get<FactorySnapshot>('factory', factoryPath(parsed.factoryId));
      await this.access().assertCanManage(caller, parsed.factoryId);
    }
    try {
      return await this.em.transactional(async (em) => {
        const product = em.create(Product, {
          factoryId: parsed.factoryId,
          categoryId: parsed.categoryId,
          name: parsed.name,
          description: parsed.description ?? null,
          basePrice: parsed.basePrice,
        });
        for (const variant of parsed.variants) em.create(Variant, { ...variant, productId: product.id });
        return product;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('A variant with one of these SKUs already exists');
      throw error;
    }
  }

  /** The product with its variants, for callers that snapshot prices (order, group buying). */
  async snapshot(productId: string): Promise<ProductSnapshot> {
    const product = await this.product(productId);
    if (!product) throw notFound('No product with this id');
    const [variants, category] = await Promise.all([
      this.em.find(Variant, { productId }, { orderBy: { id: 'asc' } }),
      this.em.findOne(Category, { id: product.categoryId }),
    ]);
    return {
      id: product.id,
      name: product.name,
      basePrice: product.basePrice,
      currency: product.currency,
      factoryId: product.factoryId,
      categoryId: product.categoryId,
      categoryName: category?.name ?? null,
      variants: variants.map((v) => ({ id: v.id, sku: v.sku, name: v.name, price: v.price })),
    };
  }

  /** The product a variant belongs to, snapshotted (order items name variants only). */
  async snapshotByVariant(variantId: string): Promise<ProductSnapshot> {
    const variant = isId(variantId) ? await this.em.findOne(Variant, { id: variantId }) : null;
    if (!variant) throw notFound('No variant with this id');
    return this.snapshot(variant.productId);
  }

  private access(): FactoryAccess {
    return (this.factoryAccess ??= new FactoryAccess(this.requireClient()));
  }

  private requireClient(): InternalClient {
    if (!this.client) throw new Error('CatalogService needs an InternalClient for this operation');
    return this.client;
  }
}
