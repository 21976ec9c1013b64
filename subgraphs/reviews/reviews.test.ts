import { Client as PgClient } from 'pg';
import { errorCode, ok, startTestStack, TEST_INTERNAL_TOKEN, type TestStack } from '../../test/support/e2e';
import { eventually } from '../../test/support/eventually';
import { metricValue } from '../../test/support/metrics';
import { logIn, type SignedInUser } from '../../test/support/users';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import { withDatabase } from '../../lib/database';
import { newId } from '../../lib/ids';

const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const OTHER_OWNER: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
const ADMIN: Caller = { userId: newId(), role: 'ADMIN' };
const SHIRT = DEMO_PRODUCTS[0]; // made by DEMO_FACTORIES[0], owned by OWNER
const FACTORY = DEMO_FACTORIES[0];

const REVIEW_FIELDS = `id rating title body createdAt updatedAt reviewerName verifiedPurchase editableUntil
  product { id name } variant { id name } reply { body createdAt }`;
const CREATE = `mutation($input: CreateReviewInput!) { createReview(input: $input) { ${REVIEW_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateReviewInput!) { updateReview(id: $id, input: $input) { ${REVIEW_FIELDS} } }`;
const REPLY = `mutation($id: ID!, $body: String!) { replyToReview(reviewId: $id, body: $body) { ${REVIEW_FIELDS} } }`;
const HIDE = `mutation($id: ID!, $reason: String!) { hideReview(reviewId: $id, reason: $reason) }`;
const RATINGS = `query($id: ID!, $factoryId: ID!) {
  product(id: $id) { rating { average count histogram } }
  factory(id: $factoryId) { rating { average count histogram } }
}`;
const LIST = `query($id: ID!, $first: Int, $after: String, $sort: ReviewSort) {
  product(id: $id) { reviews(first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id rating reviewerName } }
  } }
}`;

describe('reviews subgraph end to end', () => {
  let stack: TestStack;
  let db: PgClient;
  let buyer: SignedInUser;
  const shopper = (): Caller => ({ userId: newId(), role: 'BUYER' });
  const as = (caller: Caller) => ({ caller });

  /**
   * A group-buying order of the demo shirt made the way group-buying makes them (order's bulk contract), then
   * moved along its shipment the way logistics does; `DELIVERED` unless told to stop earlier.
   */
  const anOrder = async (userId: string, variantIds: string[] = [SHIRT.variants[0].id], deliver = true) => {
    const orderIds: string[] = [];
    for (const variantId of variantIds) {
      const created = await stack.internal('order', 'POST', '/api/orders/bulk', {
        sessionId: newId(),
        productId: SHIRT.id,
        variantId,
        factoryId: FACTORY.id,
        unitPrice: 40000,
        participants: [{ participantId: newId(), userId, quantity: 1, addressId: newId(), paymentId: newId() }],
      });
      expect(created.status).toBe(200);
      orderIds.push(created.body.orders[0].orderId);
    }
    if (deliver)
      for (const orderId of orderIds) {
        const moved = await stack.internal('order', 'POST', `/api/orders/${orderId}/shipment-status`, {
          status: 'DELIVERED',
        });
        expect(moved.body.status).toBe('DELIVERED');
      }
    return orderIds[0];
  };
  const review = (caller: Caller | SignedInUser, input: Record<string, unknown>) =>
    stack.graphql(CREATE, { input }, 'token' in caller ? { token: caller.token } : as(caller));
  const ratings = async () => ok(await stack.graphql(RATINGS, { id: SHIRT.id, factoryId: FACTORY.id }));

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['auth', 'whatsapp', 'product', 'factory', 'order', 'notification', 'reviews'],
      sandbox: true,
    });
    db = new PgClient({ connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_reviews`) });
    await db.connect();
    buyer = await logIn(stack);
    ok(
      await stack.graphql(`mutation { updateMe(input: { name: "Dewi Lestari" }) { id } }`, {}, { token: buyer.token }),
    );
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('asks the buyer for a review once the order is DELIVERED, in the app and on WhatsApp, once', async () => {
    const orderId = await anOrder(buyer.userId);
    const again = await stack.internal('order', 'POST', `/api/orders/${orderId}/shipment-status`, {
      status: 'DELIVERED',
    });
    expect(again.status).toBe(200);
    const requests = async () =>
      ok(
        await stack.graphql(
          `{ myNotifications(first: 50) { edges { node { type body } } } }`,
          {},
          { token: buyer.token },
        ),
      ).myNotifications.edges.filter(
        (e: { node: { type: string; body: string } }) =>
          e.node.type === 'REVIEW_REQUESTED' && e.node.body.includes(orderId),
      );
    await eventually('the in-app review request', async () => (await requests()).length === 1);
    const sent = await eventually('the WhatsApp review request', async () => {
      const inbox = await fetch(
        `${stack.sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(buyer.phone)}`,
      );
      const { messages } = (await inbox.json()) as { messages: { template: string | null; text: string }[] };
      const matching = messages.filter((m) => m.template === 'review_request' && m.text.includes(orderId));
      return matching.length ? matching : null;
    });
    expect(sent).toHaveLength(1);
    expect(await requests()).toHaveLength(1);
  });

  it('lets only the buyer of a delivered order review each of its products once, with bounded input', async () => {
    const [black, white] = [SHIRT.variants[0], SHIRT.variants[2]];
    const orderId = await anOrder(buyer.userId, [black.id]);
    const reviewable = async () =>
      ok(
        await stack.graphql(
          `query($id: ID!) { order(id: $id) { reviewable { productName variantName product { id } variant { id } } } }`,
          { id: orderId },
          { token: buyer.token },
        ),
      ).order.reviewable;
    expect(await reviewable()).toEqual([
      { productName: SHIRT.name, variantName: black.name, product: { id: SHIRT.id }, variant: { id: black.id } },
    ]);
    // The factory's owner reads the order too, but only its buyer learns what is left to review.
    const seenByOwner = await stack.graphql(
      `query($id: ID!) { order(id: $id) { id reviewable { productName } } }`,
      { id: orderId },
      as(OWNER),
    );
    expect(ok(seenByOwner).order).toEqual({ id: orderId, reviewable: [] });
    const undelivered = await anOrder(buyer.userId, [black.id], false);
    const valid = { orderId, variantId: black.id, rating: 4, title: 'Bagus', body: 'Kainnya adem.' };

    expect(errorCode(await stack.graphql(CREATE, { input: valid }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await review(shopper(), valid))).toBe('FORBIDDEN');
    expect(errorCode(await review(buyer, { ...valid, orderId: undelivered }))).toBe('CONFLICT');
    expect(errorCode(await review(buyer, { ...valid, orderId: newId() }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await review(buyer, { ...valid, variantId: white.id }))).toBe('BAD_USER_INPUT');
    for (const rating of [0, 6]) expect(errorCode(await review(buyer, { ...valid, rating }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await review(buyer, { ...valid, title: 'x'.repeat(121) }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await review(buyer, { ...valid, body: 'x'.repeat(2001) }))).toBe('BAD_USER_INPUT');

    const created = ok(await review(buyer, valid)).createReview;
    expect(created).toMatchObject({
      rating: 4,
      title: 'Bagus',
      body: 'Kainnya adem.',
      reviewerName: 'D*** L***',
      verifiedPurchase: true,
      product: { id: SHIRT.id, name: SHIRT.name },
      variant: { id: black.id, name: black.name },
      reply: null,
    });
    expect(Date.parse(created.editableUntil) - Date.parse(created.createdAt)).toBe(30 * 24 * 3600 * 1000);
    expect(errorCode(await review(buyer, valid))).toBe('CONFLICT');
    expect(await reviewable()).toEqual([]);
    const mine = ok(
      await stack.graphql(`{ myReviews { totalCount edges { node { id } } } }`, {}, { token: buyer.token }),
    );
    expect(mine.myReviews.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(created.id);
  });

  it('keeps product and factory ratings in step with every review, re-rating and hiding, and lists them sorted', async () => {
    const before = await ratings();
    const written: { id: string; rating: number; caller: Caller }[] = [];
    for (const rating of [5, 2, 4]) {
      const caller = shopper();
      const orderId = await anOrder(caller.userId);
      const { id } = ok(await review(caller, { orderId, variantId: SHIRT.variants[0].id, rating })).createReview;
      written.push({ id, rating, caller });
    }
    const histogram = (base: number[], changes: Record<number, number>) =>
      base.map((n, i) => n + (changes[i + 1] ?? 0));
    const after = await ratings();
    const expected = histogram(before.product.rating.histogram, { 5: 1, 2: 1, 4: 1 });
    expect(after.product.rating.histogram).toEqual(expected);
    expect(after.product.rating.count).toBe(before.product.rating.count + 3);
    const sum = expected.reduce((s, n, i) => s + n * (i + 1), 0);
    expect(after.product.rating.average).toBeCloseTo(sum / after.product.rating.count, 2);
    expect(after.factory.rating).toEqual(after.product.rating); // the factory's only reviewed product

    // Re-rating moves one count from 2 to 3.
    const low = written[1];
    ok(await stack.graphql(UPDATE, { id: low.id, input: { rating: 3 } }, as(low.caller)));
    expect((await ratings()).product.rating.histogram).toEqual(histogram(expected, { 2: -1, 3: 1 }));

    // Sorted lists page through every visible review exactly once.
    const total = after.product.rating.count;
    for (const sort of ['NEWEST', 'HIGHEST', 'LOWEST']) {
      const seen: { id: string; rating: number }[] = [];
      let cursor: string | null = null;
      do {
        const page: any = ok(await stack.graphql(LIST, { id: SHIRT.id, first: 2, after: cursor, sort })).product
          .reviews;
        expect(page.totalCount).toBe(total);
        seen.push(...page.edges.map((e: { node: { id: string; rating: number } }) => e.node));
        cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (cursor);
      expect(seen).toHaveLength(total);
      const ratingsSeen = seen.map((r) => r.rating);
      if (sort === 'HIGHEST') expect(ratingsSeen).toEqual([...ratingsSeen].sort((a, b) => b - a));
      if (sort === 'LOWEST') expect(ratingsSeen).toEqual([...ratingsSeen].sort((a, b) => a - b));
      if (sort === 'NEWEST')
        expect(seen.map((r) => r.id)).toEqual(
          seen
            .map((r) => r.id)
            .sort()
            .reverse(),
        );
    }
    expect(errorCode(await stack.graphql(LIST, { id: SHIRT.id, after: 'bm90LWEtY3Vyc29y' }))).toBe('BAD_USER_INPUT');

    // Hiding: ADMIN only; out of the aggregates and lists, still stored with who hid it and why.
    const hidden = written[0];
    expect(errorCode(await stack.graphql(HIDE, { id: hidden.id, reason: 'spam' }, as(hidden.caller)))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await stack.graphql(HIDE, { id: hidden.id, reason: ' ' }, as(ADMIN)))).toBe('BAD_USER_INPUT');
    expect(
      ok(await stack.graphql(HIDE, { id: hidden.id, reason: 'Off-topic advertising' }, as(ADMIN))).hideReview,
    ).toBe(true);
    expect(ok(await stack.graphql(HIDE, { id: hidden.id, reason: 'again' }, as(ADMIN))).hideReview).toBe(true);
    expect(errorCode(await stack.graphql(HIDE, { id: newId(), reason: 'spam' }, as(ADMIN)))).toBe('NOT_FOUND');
    const afterHide = await ratings();
    expect(afterHide.product.rating.histogram).toEqual(histogram(expected, { 2: -1, 3: 1, 5: -1 }));
    expect(afterHide.factory.rating.count).toBe(total - 1);
    const listed = ok(await stack.graphql(LIST, { id: SHIRT.id, first: 100 })).product.reviews;
    expect(listed.totalCount).toBe(total - 1);
    expect(listed.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(hidden.id);
    const { rows } = await db.query('select status, hidden_by, hidden_reason, hidden_at from reviews where id = $1', [
      hidden.id,
    ]);
    expect(rows[0]).toMatchObject({
      status: 'HIDDEN',
      hidden_by: ADMIN.userId,
      hidden_reason: 'Off-topic advertising',
    });
    expect(rows[0].hidden_at).toBeInstanceOf(Date);
    expect(errorCode(await stack.graphql(UPDATE, { id: hidden.id, input: { rating: 1 } }, as(hidden.caller)))).toBe(
      'NOT_FOUND',
    );
  });

  it('lets the author edit for 30 days only, and nobody else', async () => {
    const author = shopper();
    const orderId = await anOrder(author.userId);
    const { id } = ok(await review(author, { orderId, variantId: SHIRT.variants[0].id, rating: 3 })).createReview;
    expect(errorCode(await stack.graphql(UPDATE, { id, input: { rating: 1 } }, as(shopper())))).toBe('NOT_FOUND');
    expect(errorCode(await stack.graphql(UPDATE, { id, input: { rating: 9 } }, as(author)))).toBe('BAD_USER_INPUT');
    const edited = ok(await stack.graphql(UPDATE, { id, input: { title: 'Edited', body: null } }, as(author)));
    expect(edited.updateReview).toMatchObject({ rating: 3, title: 'Edited', body: null });
    // Written 30 days and a minute ago (moved in its database rather than waited for).
    await db.query(`update reviews set created_at = now() - interval '30 days 1 minute' where id = $1`, [id]);
    expect(errorCode(await stack.graphql(UPDATE, { id, input: { rating: 5 } }, as(author)))).toBe('FORBIDDEN');
    await db.query(`update reviews set created_at = now() - interval '29 days 23 hours' where id = $1`, [id]);
    expect(ok(await stack.graphql(UPDATE, { id, input: { rating: 5 } }, as(author))).updateReview.rating).toBe(5);
  });

  it("lets the owner of the product's factory reply once", async () => {
    const author = shopper();
    const orderId = await anOrder(author.userId);
    const { id } = ok(await review(author, { orderId, variantId: SHIRT.variants[0].id, rating: 2 })).createReview;
    expect(errorCode(await stack.graphql(REPLY, { id, body: 'Maaf' }, as(author)))).toBe('FORBIDDEN');
    expect(errorCode(await stack.graphql(REPLY, { id, body: 'Maaf' }, as(OTHER_OWNER)))).toBe('FORBIDDEN');
    expect(errorCode(await stack.graphql(REPLY, { id, body: '' }, as(OWNER)))).toBe('BAD_USER_INPUT');
    expect(errorCode(await stack.graphql(REPLY, { id: newId(), body: 'Maaf' }, as(OWNER)))).toBe('NOT_FOUND');
    const replied = ok(await stack.graphql(REPLY, { id, body: 'Maaf, kami kirim ganti.' }, as(OWNER))).replyToReview;
    expect(replied.reply).toMatchObject({ body: 'Maaf, kami kirim ganti.' });
    expect(errorCode(await stack.graphql(REPLY, { id, body: 'Again' }, as(OWNER)))).toBe('CONFLICT');
  });

  it('reads the ratings and reviews of 100 products in a constant number of SQL statements', async () => {
    const products = Array.from({ length: 100 }, (_, i) => (i === 0 ? SHIRT.id : newId()));
    // What the gateway sends for `products { rating reviews }`: one _entities fetch with every product.
    const entities = async (ids: string[]) => {
      const response = await fetch(`${stack.serviceUrl('reviews')}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
          ...identityHeaders(ADMIN),
        },
        body: JSON.stringify({
          query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
            rating { average count histogram } reviews(first: 3) { totalCount edges { node { id rating } } } } } }`,
          variables: { r: ids.map((id) => ({ __typename: 'Product', id })) },
        }),
      });
      return ok((await response.json()) as any)._entities as { reviews: { totalCount: number } }[];
    };
    const sqlStatements = () => metricValue(stack, 'reviews', 'sql_statements_total');
    const statementsFor = async (ids: string[]) => {
      const start = await sqlStatements();
      const answer = await entities(ids);
      expect(answer).toHaveLength(ids.length);
      expect(answer[0].reviews.totalCount).toBeGreaterThan(0);
      return (await sqlStatements()) - start;
    };
    const one = await statementsFor(products.slice(0, 1));
    const hundred = await statementsFor(products);
    expect(one).toBeGreaterThan(0);
    expect(hundred).toBe(one);
  });
});
