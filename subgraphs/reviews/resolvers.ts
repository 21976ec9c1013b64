import type { Resolvers } from './generated/graphql';
import { editableUntil, ratingSummary, reviewableItems, ReviewService } from './service';
import { encodeCursor, type ReviewsContext } from './loaders';
import { requireCaller, requireRole } from '../../lib/context';
import { DateTime } from '../../lib/scalars';

const service = ({ em, client, services }: ReviewsContext) => new ReviewService(em, { client, clock: services.clock });

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    myReviews: (_root, page, ctx) => service(ctx).myReviews(requireCaller(ctx.caller), page),
  },
  Mutation: {
    createReview: (_root, { input }, ctx) => service(ctx).createReview(requireCaller(ctx.caller), input),
    updateReview: (_root, { id, input }, ctx) => service(ctx).updateReview(requireCaller(ctx.caller), id, input),
    replyToReview: (_root, { reviewId, body }, ctx) =>
      service(ctx).replyToReview(requireCaller(ctx.caller), ctx.loaders.factoryAccess, reviewId, body),
    hideReview: (_root, { reviewId, reason }, ctx) =>
      service(ctx).hideReview(requireRole(ctx.caller, 'ADMIN'), reviewId, reason),
  },
  Review: {
    updatedAt: (review) => review.editedAt,
    verifiedPurchase: () => true,
    editableUntil: (review) => editableUntil(review),
    product: (review) => ({ id: review.productId }),
    variant: (review) => ({ id: review.variantId }),
    reply: (review) =>
      review.replyBody && review.repliedAt ? { body: review.replyBody, createdAt: review.repliedAt } : null,
  },
  Product: {
    __resolveReference: ({ id }) => ({ id }),
    rating: async ({ id }, _args, { loaders }) => ratingSummary(await loaders.productRating.load(id!)),
    reviews: async ({ id }, args, { loaders }) => {
      const [page, aggregate] = await Promise.all([
        loaders.productReviews.load({ productId: id!, ...args }),
        loaders.productRating.load(id!),
      ]);
      const edges = page.reviews.map((node) => ({ cursor: encodeCursor(node), node }));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        // The aggregate counts exactly the visible reviews, so the total needs no count query.
        totalCount: aggregate?.count ?? 0,
      };
    },
  },
  Factory: {
    __resolveReference: ({ id }) => ({ id }),
    rating: async ({ id }, _args, { loaders }) => ratingSummary(await loaders.factoryRating.load(id!)),
  },
  Order: {
    __resolveReference: ({ id }) => ({ id }),
    // Only the buyer learns what is left to review; order answers the order to its factory's owner too.
    reviewable: async ({ id }, _args, { loaders, caller }) => {
      const order = caller ? await loaders.orderForReview.load(id!) : null;
      if (!order || order.userId !== caller!.userId || order.status !== 'DELIVERED') return [];
      const items = reviewableItems(order, await loaders.reviewedProducts.load(order.id));
      return items.map(({ productId, variantId, productName, variantName }) => ({
        product: { id: productId },
        variant: { id: variantId },
        productName,
        variantName,
      }));
    },
  },
};
