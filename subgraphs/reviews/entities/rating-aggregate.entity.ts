import { Entity, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';

export type RatingSubject = 'PRODUCT' | 'FACTORY';

/**
 * The visible reviews of one product or factory, counted per rating. Changed in the transaction of every
 * review written, re-rated or hidden (one upsert of deltas), so a read never scans the reviews.
 */
@Entity({ tableName: 'rating_aggregates' })
export class RatingAggregate {
  [PrimaryKeyProp]?: ['subjectType', 'subjectId'];

  @PrimaryKey({ type: 'string', length: 10 })
  subjectType!: RatingSubject;

  @PrimaryKey({ type: 'uuid' })
  subjectId!: string;

  @Property({ type: 'integer' })
  count!: number;

  /** Σ ratings, for the average. */
  @Property({ type: 'integer' })
  ratingSum!: number;

  @Property({ type: 'integer' })
  r1!: number;

  @Property({ type: 'integer' })
  r2!: number;

  @Property({ type: 'integer' })
  r3!: number;

  @Property({ type: 'integer' })
  r4!: number;

  @Property({ type: 'integer' })
  r5!: number;
}
