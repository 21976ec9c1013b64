import { z } from 'zod';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Review } from './entities/review.entity';
import type { RatingAggregate } from './entities/rating-aggregate.entity';
import { REVIEW_TRANSITIONS } from './states';
import { badInput, conflict, forbidden, isAppError, isUniqueViolation, notFound } from '../../lib/errors';
import { idSchema, nonEmpty, parseInput } from '../../lib/validation';
import { paginate, type PageArgs } from '../../lib/pagination';
import { transition } from '../../lib/state-machine';
import type { Caller } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import type { Clock } from '../../lib/clock';
import type { FactoryAccess } from '../../lib/factory-access';
import { isId } from '../../lib/ids';
import { ORDERS_FOR_REVIEW_PATH, type OrderForReview, type OrdersForReviewAnswer } from '../../lib/contracts/order';
import { authUserPath, type AuthUser } from '../../lib/contracts/auth';

/** How long after writing it a buyer may still edit a review. */
export const EDIT_WINDOW_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

const TITLE_MAX = 120;
const BODY_MAX = 2000;

const rating = z.number().int('must be a whole number').min(1, 'must be 1 to 5').max(5, 'must be 1 to 5');
/** Omitted stays omitted (updateReview keeps the field); blank or null is stored as null. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .nullish()
    .transform((value) => (value === undefined ? undefined : value || null));

const createSchema = z.object({
  orderId: idSchema,
  variantId: idSchema,
  rating,
  title: text(TITLE_MAX),
  body: text(BODY_MAX),
});
const updateSchema = z.object({ rating: rating.nullish(), title: text(TITLE_MAX), body: text(BODY_MAX) });
const replySchema = z.object({ reviewId: idSchema, body: nonEmpty(BODY_MAX) });
const hideSchema = z.object({ reviewId: idSchema, reason: nonEmpty(500) });

/** What a review needs besides its database: order and auth (through the internal client), and the time. */
export interface ReviewDeps {
  client: InternalClient;
  clock: Clock;
}

/** "Budi Santoso" → "B*** S***": the first letter of at most two words; no name → "Buyer". */
export function maskName(name: string | null): string {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 2);
  if (!words.length) return 'Buyer';
  return words.map((word) => `${[...word][0].toUpperCase()}***`).join(' ');
}

export function editableUntil(review: Review): Date {
  return new Date(review.createdAt.getTime() + EDIT_WINDOW_DAYS * DAY_MS);
}

/** `{ average, count, histogram }` of an aggregate (none yet: no reviews). */
export function ratingSummary(aggregate: RatingAggregate | null) {
  if (!aggregate || aggregate.count === 0) return { average: null, count: 0, histogram: [0, 0, 0, 0, 0] };
  const { count, ratingSum, r1, r2, r3, r4, r5 } = aggregate;
  return { average: Math.round((ratingSum * 100) / count) / 100, count, histogram: [r1, r2, r3, r4, r5] };
}

/** What a delivered order's buyer may still review: one entry per product not reviewed yet. */
export function reviewableItems(order: OrderForReview, reviewedProductIds: ReadonlySet<string>) {
  if (order.status !== 'DELIVERED') return [];
  const seen = new Set(reviewedProductIds);
  return order.items.filter((item) => !seen.has(item.productId) && seen.add(item.productId));
}

export class ReviewService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: ReviewDeps,
  ) {}

  /**
   * Only the buyer of a DELIVERED order, once per (order, product). Order and auth are asked before the
   * transaction; the unique (order, product) index decides between concurrent tries.
   */
  async createReview(caller: Caller, input: unknown): Promise<Review> {
    const p = parseInput(createSchema, input);
    const [order] = (
      await this.deps.client.post<OrdersForReviewAnswer>('order', ORDERS_FOR_REVIEW_PATH, { orderIds: [p.orderId] })
    ).orders;
    if (!order) throw badInput('orderId: no such order');
    if (order.userId !== caller.userId) throw forbidden('Only the buyer of this order may review it');
    if (order.status !== 'DELIVERED')
      throw conflict(`The order is ${order.status}; its items can be reviewed once it is DELIVERED`);
    const item = order.items.find((i) => i.variantId === p.variantId);
    if (!item) throw badInput('variantId: not an item of this order');
    if (await this.em.count(Review, { orderId: order.id, productId: item.productId })) throw alreadyReviewed();
    const name = await this.nameOf(caller.userId);
    const now = this.deps.clock.now();
    try {
      return await this.em.transactional(async (tx) => {
        const review = tx.create(Review, {
          orderId: order.id,
          productId: item.productId,
          variantId: item.variantId,
          factoryId: order.factoryId,
          userId: caller.userId,
          rating: p.rating,
          title: p.title ?? null,
          body: p.body ?? null,
          reviewerName: maskName(name),
          createdAt: now,
          editedAt: now,
        });
        await tx.flush();
        await addToRatings(tx, review, { added: p.rating });
        return review;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyReviewed();
      throw error;
    }
  }

  /** The author, within EDIT_WINDOW_DAYS of writing it; a new rating moves the aggregates in the same transaction. */
  async updateReview(caller: Caller, id: string, input: unknown): Promise<Review> {
    const patch = parseInput(updateSchema, input);
    return this.em.transactional(async (tx) => {
      const review = isId(id)
        ? await tx.findOne(
            Review,
            { id, userId: caller.userId, status: 'VISIBLE' },
            { lockMode: LockMode.PESSIMISTIC_WRITE },
          )
        : null;
      if (!review) throw notFound('No review of yours with this id');
      const now = this.deps.clock.now();
      if (now > editableUntil(review))
        throw forbidden(`A review can be edited for ${EDIT_WINDOW_DAYS} days after it was written`);
      const before = review.rating;
      if (patch.rating != null) review.rating = patch.rating;
      if (patch.title !== undefined) review.title = patch.title;
      if (patch.body !== undefined) review.body = patch.body;
      review.editedAt = now;
      await tx.flush();
      if (review.rating !== before) await addToRatings(tx, review, { removed: before, added: review.rating });
      return review;
    });
  }

  /** The owner of the reviewed product's factory (or an admin), once per review. */
  async replyToReview(caller: Caller, access: FactoryAccess, reviewId: string, body: string): Promise<Review> {
    const p = parseInput(replySchema, { reviewId, body });
    const review = await this.em.findOne(Review, { id: p.reviewId, status: 'VISIBLE' });
    if (!review) throw notFound('No review with this id');
    await access.assertCanManage(caller, review.factoryId, "this product's factory");
    const replied = await this.em.nativeUpdate(
      Review,
      { id: review.id, replyBody: null },
      { replyBody: p.body, repliedAt: this.deps.clock.now(), repliedBy: caller.userId },
    );
    if (!replied) throw conflict('This review has a reply already');
    return this.em.findOneOrFail(Review, { id: review.id }, { refresh: true });
  }

  /**
   * ADMIN (checked by the resolver): the review leaves every list and aggregate in the claim's transaction and
   * stays stored with who hid it, when and why. A review hidden already answers true unchanged.
   */
  async hideReview(caller: Caller, reviewId: string, reason: string): Promise<boolean> {
    const p = parseInput(hideSchema, { reviewId, reason });
    return this.em.transactional(async (tx) => {
      const hidden = await transition(tx, Review, p.reviewId, 'HIDDEN', {
        table: REVIEW_TRANSITIONS,
        set: { hiddenAt: this.deps.clock.now(), hiddenBy: caller.userId, hiddenReason: p.reason },
        effects: (inner, review) => addToRatings(inner, review, { removed: review.rating }),
      });
      if (!hidden && !(await tx.count(Review, { id: p.reviewId }))) throw notFound('No review with this id');
      return true;
    });
  }

  /** The name the buyer chose; null when unset, or for a caller auth does not know (an operator's trusted identity). */
  private async nameOf(userId: string): Promise<string | null> {
    try {
      return (await this.deps.client.get<AuthUser>('auth', authUserPath(userId))).name;
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  myReviews(caller: Caller, page: PageArgs) {
    return paginate(this.em, Review, { userId: caller.userId, status: 'VISIBLE' }, page, { newestFirst: true });
  }
}

const alreadyReviewed = () => conflict('You have reviewed this product of this order already');

/**
 * Moves one review's rating into or out of its product's and its factory's aggregates: one upsert of deltas,
 * in the caller's transaction (row locks serialise concurrent reviews of the same product).
 */
async function addToRatings(
  tx: EntityManager,
  review: Pick<Review, 'productId' | 'factoryId'>,
  change: { added?: number; removed?: number },
): Promise<void> {
  const counts = [1, 2, 3, 4, 5].map((r) => (r === change.added ? 1 : 0) - (r === change.removed ? 1 : 0));
  const count = (change.added ? 1 : 0) - (change.removed ? 1 : 0);
  const sum = (change.added ?? 0) - (change.removed ?? 0);
  const deltas = [count, sum, ...counts];
  await tx.execute(
    `insert into rating_aggregates (subject_type, subject_id, count, rating_sum, r1, r2, r3, r4, r5)
     values ('PRODUCT', ?, ?, ?, ?, ?, ?, ?, ?), ('FACTORY', ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (subject_type, subject_id) do update set
       count = rating_aggregates.count + excluded.count,
       rating_sum = rating_aggregates.rating_sum + excluded.rating_sum,
       r1 = rating_aggregates.r1 + excluded.r1, r2 = rating_aggregates.r2 + excluded.r2,
       r3 = rating_aggregates.r3 + excluded.r3, r4 = rating_aggregates.r4 + excluded.r4,
       r5 = rating_aggregates.r5 + excluded.r5`,
    [review.productId, ...deltas, review.factoryId, ...deltas],
  );
}
