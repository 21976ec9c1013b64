/**
 * The internal REST contract of product (3002, docs/internal-api.md): the snapshot callers price from, declared
 * once and imported by product's rest.ts and by every caller (order, warehouse, group-buying).
 */

/** A product with its variants as they are now; order copies names and prices into its items. */
export interface ProductSnapshot {
  id: string;
  name: string;
  basePrice: number;
  currency: string;
  factoryId: string;
  categoryId: string;
  categoryName: string | null;
  variants: { id: string; sku: string; name: string; price: number }[];
}

/** `GET`: the product's snapshot; 404 NOT_FOUND for no such product. */
export const productPath = (productId: string) => `/api/products/id/${productId}`;

/** `GET`: the snapshot of the product owning the variant; 404 NOT_FOUND for no such variant. */
export const productByVariantPath = (variantId: string) => `/api/products/by-variant/${variantId}`;
