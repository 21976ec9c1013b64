import { loadConfig } from '../../lib/config';
import { InternalClient } from '../../lib/internal-client';
import { newId } from '../../lib/ids';
import type { Caller } from '../../lib/internal-auth';
import type { OrderForReview } from '../../lib/contracts/order';
import { openServiceDatabase, type ServiceDatabase } from '../../test/support/service-db';
import { TestClock } from '../../test/support/clock';
import { subgraph } from './index';
import { Review } from './entities/review.entity';
import { EDIT_WINDOW_DAYS, maskName, ratingSummary, reviewableItems, ReviewService } from './service';

const DAY_SECONDS = 24 * 3600;

describe('reviews: pure rules', () => {
  it('masks a display name to initials', () => {
    expect(maskName('Budi Santoso')).toBe('B*** S***');
    expect(maskName('  siti  ')).toBe('S***');
    expect(maskName('Ayu Dewi Lestari')).toBe('A*** D***');
    expect(maskName(null)).toBe('Buyer');
    expect(maskName('   ')).toBe('Buyer');
  });

  it('summarises an aggregate: two-decimal average, null without reviews, five counts', () => {
    expect(ratingSummary(null)).toEqual({ average: null, count: 0, histogram: [0, 0, 0, 0, 0] });
    const aggregate = {
      subjectType: 'PRODUCT',
      subjectId: newId(),
      count: 3,
      ratingSum: 11,
      r1: 0,
      r2: 0,
      r3: 1,
      r4: 1,
      r5: 1,
    } as const;
    expect(ratingSummary(aggregate)).toEqual({ average: 3.67, count: 3, histogram: [0, 0, 1, 1, 1] });
    expect(ratingSummary({ ...aggregate, count: 0, ratingSum: 0, r3: 0, r4: 0, r5: 0 }).average).toBeNull();
  });

  it('offers each product of a delivered order once, until it is reviewed', () => {
    const [shirt, batik] = [newId(), newId()];
    const item = (productId: string, variantId = newId()) => ({
      productId,
      variantId,
      productName: 'P',
      variantName: 'V',
    });
    const order: OrderForReview = {
      id: newId(),
      userId: newId(),
      factoryId: newId(),
      status: 'DELIVERED',
      items: [item(shirt), item(shirt), item(batik)],
    };
    expect(reviewableItems(order, new Set()).map((i) => i.productId)).toEqual([shirt, batik]);
    expect(reviewableItems(order, new Set([shirt])).map((i) => i.productId)).toEqual([batik]);
    expect(reviewableItems({ ...order, status: 'SHIPPED' }, new Set())).toEqual([]);
  });
});

/** The edit window in process against PostgreSQL, with a clock the test moves instead of waiting 30 days. */
describe('reviews service: the edit window', () => {
  const config = loadConfig({ NODE_ENV: 'test' });
  let db: ServiceDatabase;
  const clock = new TestClock();
  const author: Caller = { userId: newId(), role: 'BUYER' };
  const service = () => new ReviewService(db.orm.em.fork(), { client: new InternalClient(config), clock });

  beforeAll(async () => {
    db = await openServiceDatabase('reviews', subgraph);
  });
  afterAll(() => db?.close());

  it(`lets the author edit until ${EDIT_WINDOW_DAYS} days after writing, and never afterwards`, async () => {
    const em = db.orm.em.fork();
    const review = em.create(Review, {
      orderId: newId(),
      productId: newId(),
      variantId: newId(),
      factoryId: newId(),
      userId: author.userId,
      rating: 3,
      reviewerName: 'B***',
      createdAt: clock.now(),
      editedAt: clock.now(),
    });
    await em.flush();

    clock.advance(EDIT_WINDOW_DAYS * DAY_SECONDS);
    const edited = await service().updateReview(author, review.id, { title: 'Still fine' });
    expect(edited).toMatchObject({ title: 'Still fine', rating: 3 });
    expect(edited.editedAt).toEqual(clock.now());

    clock.advance(1);
    await expect(service().updateReview(author, review.id, { rating: 5 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await db.orm.em.fork().findOneOrFail(Review, { id: review.id })).rating).toBe(3);
    await expect(
      service().updateReview({ userId: newId(), role: 'BUYER' }, review.id, { rating: 5 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
