// Storefront demo: plain DOM and the public GraphQL API only, through the helpers it shares with the factory console.
import {
  SESSION_PROGRESS,
  attempt,
  byTestId,
  clearError,
  gql,
  h,
  me,
  money,
  onSubmit,
  plural,
  progressBar,
  progressText,
  shipmentEvents,
  showError,
  startAccount,
  subscribe,
  timeLeft,
  when,
} from '../shared/client.js';

const PAYMENT_URL_KEY = (participantId) => `demo.paymentUrl.${participantId}`;

let view = { alive: () => false, leave: () => {} };

// ---- views ----

/** Each view gets `alive()` (false once the user moved on) and `onLeave` for its timers and subscriptions. */
function route() {
  view.leave();
  clearError();
  const cleanups = [];
  const current = { alive: () => view === current, leave: () => cleanups.forEach((stop) => stop()) };
  view = current;
  const onLeave = (stop) => cleanups.push(stop);
  const root = byTestId('view');
  root.replaceChildren();
  const [, page, id] = location.hash.split('/');
  const render =
    page === 'session' && id
      ? showSession(root, id, current, onLeave)
      : page === 'orders'
        ? showOrders(root, current)
        : showSessions(root, current);
  render.catch((error) => current.alive() && showError(error));
}
window.addEventListener('hashchange', route);

async function showSessions(root, current) {
  const { groupBuyingSessions } = await gql(`{
    groupBuyingSessions(status: FORMING, first: 20) {
      edges { node { id moq groupPrice endsAt paidQuantity product { name basePrice rating { average count } } } }
    } }`);
  if (!current.alive()) return;
  const sessions = groupBuyingSessions.edges.map((edge) => edge.node);
  root.append(
    h('h2', {}, 'Forming sessions'),
    sessions.length
      ? h(
          'ul',
          { class: 'sessions', 'data-testid': 'session-list' },
          sessions.map((s) =>
            h(
              'li',
              { class: 'card' },
              h(
                'a',
                { href: `#/session/${s.id}`, 'data-testid': 'session-link', 'data-session-id': s.id },
                s.product.name,
              ),
              h('span', { class: 'price' }, money(s.groupPrice), ' ', h('s', {}, money(s.product.basePrice))),
              h('span', { class: 'muted' }, `${s.paidQuantity}/${s.moq} paid · ${timeLeft(s.endsAt)}`),
              h('span', { class: 'rating', 'data-testid': 'session-rating' }, ratingText(s.product.rating)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No session is forming right now.'),
  );
}

async function showSession(root, id, current, onLeave) {
  const { groupBuyingSession: session } = await gql(
    `query ($id: ID!) { groupBuyingSession(id: $id) {
      id status moq groupPrice endsAt paidQuantity participantsCount progressPercent
      product { id name basePrice rating { average count histogram } reviews(first: 5) { edges { node {
        id rating title body reviewerName createdAt variant { name } reply { body }
      } } } }
      variant { id sku } factory { id name } myParticipation { id quantity status }
    } }`,
    { id },
  );
  if (!current.alive()) return;
  if (!session) throw new Error('This session does not exist.');

  const progress = progressBar({ 'data-testid': 'progress' });
  const paid = h('span', { 'data-testid': 'progress-text' });
  const status = h('span', { class: 'status', 'data-testid': 'session-status' });
  const countdown = h('span', { 'data-testid': 'time-left' });
  const participation = h('div', { class: 'participation', 'data-testid': 'participation' });
  const saving = Math.round((1 - session.groupPrice / session.product.basePrice) * 100);

  const showProgress = () => {
    status.textContent = session.status;
    paid.textContent = progressText(session);
    progress.show(session);
    countdown.textContent = session.status === 'FORMING' ? timeLeft(session.endsAt) : 'closed';
  };

  root.append(
    h('p', {}, h('a', { href: '#/' }, '← All sessions')),
    h(
      'article',
      { class: 'card' },
      h('h2', { 'data-testid': 'product-name' }, session.product.name),
      h('p', { class: 'muted' }, `${session.factory.name} · ${session.variant.sku}`),
      h(
        'p',
        { class: 'price' },
        h('strong', { 'data-testid': 'group-price' }, money(session.groupPrice)),
        ' group price ',
        h('s', { 'data-testid': 'base-price' }, money(session.product.basePrice)),
        saving > 0 ? ` · save ${saving}%` : null,
      ),
      h('p', {}, status, ' · ', countdown),
      progress.element,
      paid,
      participation,
    ),
    productReviews(session.product),
  );
  showProgress();
  const timer = setInterval(showProgress, 1000);
  onLeave(() => clearInterval(timer));

  const renderParticipation = () =>
    attempt(() => showParticipation(participation, session, current, renderParticipation));
  onLeave(
    subscribe(SESSION_PROGRESS, { sessionId: id }, async ({ groupBuyingSessionProgress }) => {
      Object.assign(session, groupBuyingSessionProgress);
      showProgress();
      // A payment of ours moves the bar too: show the place's new status.
      if (me && session.myParticipation) {
        try {
          const { groupBuyingSession } = await gql(
            'query ($id: ID!) { groupBuyingSession(id: $id) { myParticipation { id quantity status } } }',
            { id },
          );
          session.myParticipation = groupBuyingSession.myParticipation;
          if (current.alive()) renderParticipation();
        } catch (error) {
          showError(error);
        }
      }
    }),
  );
  await renderParticipation();
}

async function showParticipation(root, session, current, rerender) {
  if (!me) return root.replaceChildren(h('p', { class: 'muted' }, 'Log in to join this session.'));
  const place = session.myParticipation;
  if (place) {
    const paymentUrl = localStorage.getItem(PAYMENT_URL_KEY(place.id));
    return root.replaceChildren(
      h(
        'p',
        { 'data-testid': 'my-participation' },
        `You joined with ${plural(place.quantity, 'unit')} · `,
        h('span', { class: 'status', 'data-testid': 'participation-status' }, place.status),
      ),
      ...(place.status === 'PENDING_PAYMENT' && paymentUrl
        ? [
            h(
              'a',
              { class: 'button', href: paymentUrl, target: '_blank', rel: 'noopener', 'data-testid': 'pay-link' },
              `Pay ${money(place.quantity * session.groupPrice)}`,
            ),
          ]
        : []),
    );
  }
  if (session.status !== 'FORMING') return root.replaceChildren(h('p', { class: 'muted' }, 'This session is closed.'));

  const { myAddresses } = await gql('{ myAddresses { id label line1 city isDefault } }');
  if (!current.alive()) return;
  if (!myAddresses.length) return root.replaceChildren(addressForm(rerender));

  const join = h(
    'form',
    { class: 'join', 'data-testid': 'join-form' },
    h(
      'label',
      {},
      'Quantity ',
      h('input', { name: 'quantity', type: 'number', min: 1, value: 1, required: true, 'data-testid': 'quantity' }),
    ),
    h(
      'label',
      {},
      'Ship to ',
      h(
        'select',
        { name: 'addressId', 'data-testid': 'address' },
        myAddresses.map((a) =>
          h('option', { value: a.id, selected: a.isDefault }, `${a.label ?? 'Address'}: ${a.line1}, ${a.city}`),
        ),
      ),
    ),
    h('button', { type: 'submit', 'data-testid': 'join' }, `Join at ${money(session.groupPrice)} each`),
  );
  onSubmit(join, async ({ quantity, addressId }) => {
    const { joinGroupBuyingSession: joined } = await gql(
      `mutation ($sessionId: ID!, $quantity: Int!, $addressId: ID!) {
        joinGroupBuyingSession(input: { sessionId: $sessionId, quantity: $quantity, addressId: $addressId }) {
          participant { id quantity status } paymentUrl
        } }`,
      { sessionId: session.id, quantity: Number(quantity), addressId },
    );
    // Kept so the invoice link survives a reload; the API has no way back from a place to its invoice.
    localStorage.setItem(PAYMENT_URL_KEY(joined.participant.id), joined.paymentUrl);
    session.myParticipation = joined.participant;
    await rerender();
  });
  root.replaceChildren(join);
}

/** "★ 4.5 · 3 reviews", or that there is none yet. */
function ratingText(rating) {
  if (!rating.count) return 'No reviews yet';
  return `★ ${rating.average.toFixed(1)} · ${plural(rating.count, 'review')}`;
}

/** What buyers think of a product: its rating, how the ratings spread, and its newest reviews. */
function productReviews(product) {
  const { rating } = product;
  const reviews = product.reviews.edges.map((edge) => edge.node);
  return h(
    'section',
    { class: 'card reviews' },
    h('h3', {}, 'Reviews ', h('span', { class: 'rating', 'data-testid': 'product-rating' }, ratingText(rating))),
    rating.count
      ? h(
          'ol',
          { class: 'histogram', reversed: true },
          [5, 4, 3, 2, 1].map((stars) => h('li', {}, `${stars}★ ${rating.histogram[stars - 1]}`)),
        )
      : null,
    h(
      'ul',
      { class: 'review-list', 'data-testid': 'review-list' },
      reviews.map((review) =>
        h(
          'li',
          { 'data-testid': 'review' },
          h('p', {}, h('strong', {}, '★'.repeat(review.rating)), ' ', review.title ?? ''),
          review.body ? h('p', {}, review.body) : null,
          h(
            'p',
            { class: 'muted' },
            `${review.reviewerName} · ${review.variant.name} · verified purchase · ${when(review.createdAt)}`,
          ),
          review.reply ? h('p', { class: 'reply' }, `Factory: ${review.reply.body}`) : null,
        ),
      ),
    ),
  );
}

/** One review form per product of a delivered order the buyer has not reviewed yet. */
function reviewForms(order, rerender) {
  return order.reviewable.map((item) => {
    const form = h(
      'form',
      { class: 'review', 'data-testid': 'review-form', 'data-product-id': item.product.id },
      h('p', {}, `Review ${item.productName} (${item.variantName})`),
      h(
        'label',
        {},
        'Rating ',
        h(
          'select',
          { name: 'rating', 'data-testid': 'review-rating' },
          [5, 4, 3, 2, 1].map((stars) => h('option', { value: stars }, `${stars} ★`)),
        ),
      ),
      h('label', {}, 'Title ', h('input', { name: 'title', maxlength: 120, 'data-testid': 'review-title' })),
      h('label', {}, 'Review ', h('textarea', { name: 'body', maxlength: 2000, 'data-testid': 'review-body' })),
      h('button', { type: 'submit', 'data-testid': 'submit-review' }, 'Send review'),
    );
    return onSubmit(form, async ({ rating, title, body }) => {
      await gql(`mutation ($input: CreateReviewInput!) { createReview(input: $input) { id } }`, {
        input: { orderId: order.id, variantId: item.variant.id, rating: Number(rating), title, body },
      });
      await rerender();
    });
  });
}

function addressForm(onCreated) {
  const field = (name, label, attrs = {}) => h('label', {}, label, h('input', { name, required: true, ...attrs }));
  const form = h(
    'form',
    { class: 'address', 'data-testid': 'address-form' },
    h('p', {}, 'Where should we ship? Add an address to join.'),
    field('recipientName', 'Recipient', { value: me.name ?? '' }),
    field('phone', 'Phone', { value: me.phone }),
    field('line1', 'Street'),
    field('city', 'City'),
    field('province', 'Province'),
    field('postalCode', 'Postal code', { inputmode: 'numeric' }),
    h('button', { type: 'submit', 'data-testid': 'create-address' }, 'Save address'),
  );
  return onSubmit(form, async (values) => {
    await gql(
      `mutation ($recipientName: String!, $phone: String!, $line1: String!, $city: String!, $province: String!, $postalCode: String!) {
        createAddress(input: { label: "Home", recipientName: $recipientName, phone: $phone, line1: $line1,
                               city: $city, province: $province, postalCode: $postalCode, isDefault: true }) { id }
      }`,
      values,
    );
    await onCreated();
  });
}

async function showOrders(root, current) {
  if (!me) return root.replaceChildren(h('p', { class: 'muted' }, 'Log in to see your orders.'));
  const { myOrders } = await gql(`{ myOrders(first: 20) { edges { node {
    id status source total createdAt items { quantity productName }
    payment { status } shipment { status trackingNumber events { status description occurredAt } }
    reviewable { productName variantName product { id } variant { id } }
  } } } }`);
  if (!current.alive()) return;
  const orders = myOrders.edges.map((edge) => edge.node);
  const rerender = async () => {
    if (!current.alive()) return;
    root.replaceChildren();
    await showOrders(root, current);
  };
  root.append(
    h('h2', {}, 'My orders'),
    orders.length
      ? h(
          'ul',
          { class: 'orders', 'data-testid': 'order-list' },
          orders.map((order) =>
            h(
              'li',
              { class: 'card', 'data-testid': 'order', 'data-order-id': order.id },
              h(
                'p',
                {},
                h('strong', {}, order.items.map((item) => `${item.quantity} × ${item.productName}`).join(', ')),
                ' ',
                h('span', { class: 'status', 'data-testid': 'order-status' }, order.status),
              ),
              h(
                'p',
                { class: 'muted' },
                `${when(order.createdAt)} · ${order.source === 'GROUP_BUYING' ? 'group buying' : 'regular'}`,
              ),
              h(
                'p',
                {},
                'Total ',
                h('strong', { 'data-testid': 'order-total' }, money(order.total)),
                ' · payment ',
                h('span', { 'data-testid': 'payment-status' }, order.payment?.status ?? '—'),
              ),
              order.shipment
                ? h(
                    'div',
                    { 'data-testid': 'shipment' },
                    h(
                      'p',
                      {},
                      `Shipment ${order.shipment.status}`,
                      order.shipment.trackingNumber ? ` · tracking ${order.shipment.trackingNumber}` : '',
                    ),
                    shipmentEvents(order.shipment.events),
                  )
                : h('p', { class: 'muted' }, 'Not shipped yet.'),
              reviewForms(order, rerender),
              order.status === 'DELIVERED' && !order.reviewable.length
                ? h('p', { class: 'muted', 'data-testid': 'reviewed' }, 'Reviewed: thank you!')
                : null,
            ),
          ),
        )
      : h(
          'p',
          { class: 'muted', 'data-testid': 'no-orders' },
          'No orders yet. Orders appear when a session you paid for reaches its MOQ.',
        ),
  );
}

await startAccount({ tokenKey: 'demo.token', onSession: route });
