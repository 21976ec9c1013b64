import type { Resolvers } from './generated/graphql';
import { CatalogService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { notFound } from '../../lib/errors';
import { isId } from '../../lib/ids';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    product: (_root, { id }, { em }) => new CatalogService(em).product(id),
    products: (_root, args, { em }) =>
      new CatalogService(em).listProducts(
        { search: args.search, categoryId: args.categoryId, factoryId: args.factoryId },
        { first: args.first, after: args.after },
      ),
    categories: (_root, _args, { em }) => new CatalogService(em).categories(),
  },
  Mutation: {
    createCategory: (_root, { input }, { em, caller, client }) =>
      new CatalogService(em, client).createCategory(requireCaller(caller), input),
    createProduct: (_root, { input }, { em, caller, client }) =>
      new CatalogService(em, client).createProduct(requireCaller(caller), input),
  },
  Product: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.product.load(ref.id) : null),
    category: async (product, _args, { loaders }) => {
      const category = await loaders.category.load(product.categoryId!);
      if (!category) throw notFound('Category of this product is missing');
      return category;
    },
    factory: (product) => ({ id: product.factoryId! }),
    variants: (product, _args, { loaders }) => loaders.variantsByProduct.load(product.id!),
  },
  Variant: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.variant.load(ref.id) : null),
    product: async (variant, _args, { loaders }) => {
      const product = await loaders.product.load(variant.productId!);
      if (!product) throw notFound('Product of this variant is missing');
      return product;
    },
  },
  Category: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.category.load(ref.id) : null),
    parent: (category, _args, { loaders }) => (category.parentId ? loaders.category.load(category.parentId) : null),
  },
  Factory: {
    __resolveReference: (ref) => ({ id: ref.id }),
    products: (factory, args, { em }) =>
      new CatalogService(em).listProducts({ factoryId: factory.id }, { first: args.first, after: args.after }),
  },
};
