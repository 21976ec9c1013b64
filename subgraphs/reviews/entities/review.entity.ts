import { Check, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { ReviewStatus } from '../states';

/**
 * A buyer's rating of one product of one delivered order (verified purchase by construction). The order's
 * factory and the masked reviewer name are copied in when it is written, so lists and aggregates never ask
 * another service.
 */
@Entity({ tableName: 'reviews' })
@Unique({ name: 'reviews_order_product_unique', properties: ['orderId', 'productId'] })
@Index({ name: 'reviews_product_listing_index', properties: ['productId', 'status', 'rating', 'id'] })
@Index({ name: 'reviews_user_index', properties: ['userId', 'id'] })
@Check({ name: 'reviews_rating_check', expression: 'rating between 1 and 5' })
export class Review {
  [OptionalProps]?: 'status' | 'createdAt' | 'editedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  orderId!: string;

  @Property({ type: 'uuid' })
  productId!: string;

  @Property({ type: 'uuid' })
  variantId!: string;

  @Property({ type: 'uuid' })
  factoryId!: string;

  /** The buyer who wrote it. */
  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'smallint' })
  rating!: number;

  @Property({ type: 'string', length: 120, nullable: true })
  title?: string | null;

  @Property({ type: 'text', nullable: true })
  body?: string | null;

  /** Masked when written (B*** S***): the only trace of who wrote it that clients see. */
  @Property({ type: 'string', length: 120 })
  reviewerName!: string;

  @Property({ type: 'string', length: 20, default: 'VISIBLE' })
  status: ReviewStatus = 'VISIBLE';

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  /**
   * When the buyer last changed it (`Review.updatedAt`). Not named updatedAt: transition() stamps that on every
   * status change, and hiding a review is not an edit.
   */
  @Property({ type: 'datetime' })
  editedAt: Date = new Date();

  @Property({ type: 'text', nullable: true })
  replyBody?: string | null;

  @Property({ type: 'datetime', nullable: true })
  repliedAt?: Date | null;

  /** The factory owner (or admin) who replied. */
  @Property({ type: 'uuid', nullable: true })
  repliedBy?: string | null;

  @Property({ type: 'datetime', nullable: true })
  hiddenAt?: Date | null;

  /** The admin who hid it. */
  @Property({ type: 'uuid', nullable: true })
  hiddenBy?: string | null;

  @Property({ type: 'string', length: 500, nullable: true })
  hiddenReason?: string | null;
}
