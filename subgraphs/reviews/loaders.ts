import DataLoader from 'dataloader';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubgraphContext } from '../../lib/context';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import { FactoryAccess } from '../../lib/factory-access';
import type { Clock } from '../../lib/clock';
import { parseInput } from '../../lib/validation';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../lib/pagination';
import { isId } from '../../lib/ids';
import { ORDERS_FOR_REVIEW_PATH, type OrderForReview, type OrdersForReviewAnswer } from '../../lib/contracts/order';
import { Review } from './entities/review.entity';
import { RatingAggregate, type RatingSubject } from './entities/rating-aggregate.entity';

/** What reviews builds once at start (index.ts): the clock its time rules read. */
export interface ReviewsServices {
  clock: Clock;
}

export type ReviewSort = 'NEWEST' | 'HIGHEST' | 'LOWEST';

/** One product's page of reviews as asked; keys with the same page arguments are read in one statement. */
export interface ReviewPageKey {
  productId: string;
  first?: number | null;
  after?: string | null;
  sort?: ReviewSort | null;
}

export interface ReviewPage {
  reviews: Review[];
  hasNextPage: boolean;
}

const pageSchema = z.object({
  first: z.number().int().min(0, 'first must be ≥ 0').max(MAX_PAGE_SIZE, `first must be ≤ ${MAX_PAGE_SIZE}`).nullish(),
  after: z
    .string()
    .refine((c) => decodeCursor(c) !== null, 'after is not a cursor from this list')
    .nullish(),
});

/** A position in a sorted list: the rating and id of the last review seen (the sort is rating, then id). */
export function encodeCursor(review: Pick<Review, 'rating' | 'id'>): string {
  return Buffer.from(`review:${review.rating}:${review.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { rating: number; id: string } | null {
  const [tag, rating, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  return tag === 'review' && /^[1-5]$/.test(rating ?? '') && isId(id) ? { rating: Number(rating), id } : null;
}

/** Newest first within equal ratings, so every sort is a total order over (rating, id). */
const ORDER_BY: Record<ReviewSort, string> = {
  NEWEST: 'id desc',
  HIGHEST: 'rating desc, id desc',
  LOWEST: 'rating asc, id desc',
};
const AFTER: Record<ReviewSort, string> = {
  NEWEST: 'id < ?',
  HIGHEST: '(rating < ? or (rating = ? and id < ?))',
  LOWEST: '(rating > ? or (rating = ? and id < ?))',
};

/**
 * The pages of many products in one statement: each product's visible reviews numbered in the sort's order
 * (`row_number() over (partition by product_id …)`), the first `first + 1` kept (one more tells hasNextPage).
 */
async function reviewPages(em: EntityManager, productIds: string[], args: Omit<ReviewPageKey, 'productId'>) {
  const { first, after } = parseInput(pageSchema, { first: args.first, after: args.after });
  const limit = first ?? DEFAULT_PAGE_SIZE;
  const sort = args.sort ?? 'NEWEST';
  const cursor = after ? decodeCursor(after) : null;
  const pages = new Map<string, ReviewPage>(productIds.map((id) => [id, { reviews: [], hasNextPage: false }]));
  if (limit === 0) return pages;
  const afterSql = cursor ? `and ${AFTER[sort]}` : '';
  const afterParams = !cursor ? [] : sort === 'NEWEST' ? [cursor.id] : [cursor.rating, cursor.rating, cursor.id];
  const rows: Record<string, unknown>[] = await em.execute(
    `select * from (
       select *, row_number() over (partition by product_id order by ${ORDER_BY[sort]}) as position
         from reviews
        where product_id in (?) and status = 'VISIBLE' ${afterSql}
     ) ranked
     where position <= ?
     order by product_id, position`,
    [productIds, ...afterParams, limit + 1],
  );
  for (const { position, ...row } of rows) {
    const review = em.map(Review, row);
    const page = pages.get(review.productId)!;
    if (Number(position) > limit) page.hasNextPage = true;
    else page.reviews.push(review);
  }
  return pages;
}

/** Per request: every list and aggregate of a response read together, whatever the number of parents. */
export function createLoaders(em: EntityManager, { client }: SubgraphDeps) {
  const aggregates = (subjectType: RatingSubject) =>
    new DataLoader<string, RatingAggregate | null>(async (ids) => {
      const rows = await em.find(RatingAggregate, { subjectType, subjectId: { $in: ids.filter(isId) } });
      const bySubject = new Map(rows.map((row) => [row.subjectId, row]));
      return ids.map((id) => bySubject.get(id) ?? null);
    });
  return {
    factoryAccess: new FactoryAccess(client),
    productRating: aggregates('PRODUCT'),
    factoryRating: aggregates('FACTORY'),
    productReviews: new DataLoader<ReviewPageKey, ReviewPage, string>(
      async (keys) => {
        const groups = new Map<string, ReviewPageKey[]>();
        for (const key of keys) {
          const args = JSON.stringify([key.first ?? null, key.after ?? null, key.sort ?? null]);
          groups.set(args, [...(groups.get(args) ?? []), key]);
        }
        const pages = new Map<ReviewPageKey, ReviewPage>();
        for (const group of groups.values()) {
          const ids = [...new Set(group.map((key) => key.productId).filter(isId))];
          const found = await reviewPages(em, ids, group[0]);
          for (const key of group) pages.set(key, found.get(key.productId) ?? { reviews: [], hasNextPage: false });
        }
        return keys.map((key) => pages.get(key)!);
      },
      { cacheKeyFn: (key) => JSON.stringify([key.productId, key.first, key.after, key.sort]) },
    ),
    /** Orders as order knows them (buyer, status, items): one internal call per response. */
    orderForReview: new DataLoader<string, OrderForReview | null>(
      async (orderIds) => {
        const { orders } = await client.post<OrdersForReviewAnswer>('order', ORDERS_FOR_REVIEW_PATH, {
          orderIds: orderIds.filter(isId),
        });
        const byId = new Map(orders.map((order) => [order.id, order]));
        return orderIds.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: 100 },
    ),
    /** The products of each order reviewed already (hidden ones too: once per order and product stays once). */
    reviewedProducts: new DataLoader<string, Set<string>>(async (orderIds) => {
      const reviews = await em.find(Review, { orderId: { $in: orderIds.filter(isId) } });
      return orderIds.map((id) => new Set(reviews.filter((r) => r.orderId === id).map((r) => r.productId)));
    }),
  };
}

export type ReviewsContext = SubgraphContext<ReturnType<typeof createLoaders>> & { services: ReviewsServices };
