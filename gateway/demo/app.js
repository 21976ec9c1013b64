// Storefront demo: plain DOM and the public GraphQL API only (HTTP /graphql, graphql-ws on the same path).
import { createClient } from './vendor/graphql-ws/client.js';

const TOKEN_KEY = 'demo.token';
const PAYMENT_URL_KEY = (participantId) => `demo.paymentUrl.${participantId}`;

const SESSION_PROGRESS = /* GraphQL */ `
  subscription ($sessionId: ID!) {
    groupBuyingSessionProgress(sessionId: $sessionId) {
      id
      status
      moq
      paidQuantity
      participantsCount
      progressPercent
    }
  }
`;
const NOTIFICATION_ADDED = /* GraphQL */ `
  subscription {
    notificationAdded {
      id
      type
      title
      body
    }
  }
`;

const config = await fetch('config.json')
  .then((r) => (r.ok ? r.json() : {}))
  .catch(() => ({}));
let token = localStorage.getItem(TOKEN_KEY);
let me = null;
let ws = null;
let stopNotifications = null;
let pendingPhone = null;
let view = { alive: () => false, leave: () => {} };

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const money = (amount) => `Rp${new Intl.NumberFormat('id-ID').format(amount)}`;
const plural = (count, noun) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Creates an element; children are nodes or text, so data from the API is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value != null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

function showError(message) {
  const banner = byTestId('error');
  banner.textContent = message;
  banner.hidden = false;
}

function clearError() {
  byTestId('error').hidden = true;
}

/** Runs a user action, showing its failure instead of losing it in the console. */
async function attempt(action) {
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error.message);
  }
}

async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (body?.errors?.length) {
    throw Object.assign(new Error(body.errors[0].message), { code: body.errors[0].extensions?.code });
  }
  if (!body?.data) throw new Error(`The server answered HTTP ${response.status}`);
  return body.data;
}

/** A new socket per identity: connectionParams are only sent when a connection opens. */
function connectSocket() {
  ws?.dispose();
  ws = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function subscribe(query, variables, onData) {
  return ws.subscribe(
    { query, variables },
    {
      next: ({ data, errors }) => (errors?.length ? showError(errors[0].message) : onData(data)),
      // graphql-ws reports GraphQL errors as an array and a closed socket as a CloseEvent.
      error: (error) =>
        showError(
          Array.isArray(error)
            ? error[0].message
            : `Live updates stopped: ${error.reason || error.message || 'connection lost'}`,
        ),
      complete: () => {},
    },
  );
}

function timeLeft(endsAt) {
  const seconds = Math.floor((Date.parse(endsAt) - Date.now()) / 1000);
  if (seconds <= 0) return 'ended';
  const [d, hr, m, s] = [
    Math.floor(seconds / 86400),
    Math.floor(seconds / 3600) % 24,
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  if (d) return `${d}d ${hr}h left`;
  if (hr) return `${hr}h ${m}m left`;
  return `${m}m ${String(s).padStart(2, '0')}s left`;
}

// ---- account ----

async function startSession() {
  connectSocket();
  stopNotifications?.();
  stopNotifications = null;
  me = null;
  if (token) {
    try {
      me = (await gql('{ me { id phone name role } }')).me;
    } catch (error) {
      if (error.code !== 'UNAUTHENTICATED') showError(error.message);
    }
    if (!me) {
      token = null;
      localStorage.removeItem(TOKEN_KEY);
      connectSocket();
    }
  }
  byTestId('current-user').textContent = me ? me.name || me.phone : '';
  byTestId('logout').hidden = !me;
  byTestId('login').hidden = Boolean(me);
  if (me) stopNotifications = subscribe(NOTIFICATION_ADDED, {}, ({ notificationAdded }) => toast(notificationAdded));
  route();
}

function showOtpHint(phone) {
  const hint = byTestId('otp-hint');
  if (!config.sandboxUrl) return;
  const inbox = `${config.sandboxUrl}/__sandbox/whatsapp/messages?to=`;
  hint.replaceChildren(
    'Development: no WhatsApp message is really sent; read the code at ',
    phone
      ? h('a', { href: inbox + encodeURIComponent(phone), target: '_blank' }, inbox + phone)
      : h('code', {}, `${inbox}+62…`),
  );
  hint.hidden = false;
}

byTestId('otp-request-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    const { requestOtp } = await gql('mutation ($phone: String!) { requestOtp(phone: $phone) { phone expiresAt } }', {
      phone: event.target.phone.value,
    });
    pendingPhone = requestOtp.phone;
    showOtpHint(pendingPhone);
    byTestId('otp-verify-form').hidden = false;
    byTestId('otp').focus();
  });
});

byTestId('otp-verify-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    const { verifyOtp } = await gql(
      'mutation ($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { token } }',
      {
        phone: pendingPhone,
        code: event.target.code.value.trim(),
      },
    );
    token = verifyOtp.token;
    localStorage.setItem(TOKEN_KEY, token);
    event.target.reset();
    event.target.hidden = true;
    byTestId('otp-hint').hidden = true;
    await startSession();
  });
});

byTestId('logout').addEventListener('click', () =>
  attempt(async () => {
    try {
      await gql('mutation { logout }');
    } finally {
      // Signed out locally even when the server could not be told.
      token = null;
      localStorage.removeItem(TOKEN_KEY);
      await startSession();
    }
  }),
);

function toast(notification) {
  const list = byTestId('notifications');
  list.prepend(
    h(
      'div',
      { class: 'toast', 'data-testid': 'notification', 'data-type': notification.type },
      h('strong', {}, notification.title),
      h('p', {}, notification.body),
    ),
  );
  while (list.children.length > 5) list.lastElementChild.remove();
}

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
  render.catch((error) => current.alive() && showError(error.message));
}
window.addEventListener('hashchange', route);

async function showSessions(root, current) {
  const { groupBuyingSessions } = await gql(`{
    groupBuyingSessions(status: FORMING, first: 20) {
      edges { node { id moq groupPrice endsAt paidQuantity product { name basePrice } } }
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
      product { id name basePrice } variant { id sku } factory { id name } myParticipation { id quantity status }
    } }`,
    { id },
  );
  if (!current.alive()) return;
  if (!session) throw new Error('This session does not exist.');

  const bar = h('div', { class: 'bar' });
  const progress = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'data-testid': 'progress' },
    bar,
  );
  const progressText = h('span', { 'data-testid': 'progress-text' });
  const status = h('span', { class: 'status', 'data-testid': 'session-status' });
  const countdown = h('span', { 'data-testid': 'time-left' });
  const participation = h('div', { class: 'participation', 'data-testid': 'participation' });
  const saving = Math.round((1 - session.groupPrice / session.product.basePrice) * 100);

  const showProgress = () => {
    status.textContent = session.status;
    progressText.textContent = `${session.paidQuantity}/${session.moq} paid · ${plural(session.participantsCount, 'buyer')}`;
    bar.style.width = `${Math.min(100, session.progressPercent)}%`;
    progress.setAttribute('aria-valuenow', session.paidQuantity);
    progress.setAttribute('aria-valuemax', session.moq);
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
      progress,
      progressText,
      participation,
    ),
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
          showError(error.message);
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
  join.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(async () => {
      const { joinGroupBuyingSession: joined } = await gql(
        `mutation ($sessionId: ID!, $quantity: Int!, $addressId: ID!) {
          joinGroupBuyingSession(input: { sessionId: $sessionId, quantity: $quantity, addressId: $addressId }) {
            participant { id quantity status } paymentUrl
          } }`,
        { sessionId: session.id, quantity: Number(join.quantity.value), addressId: join.addressId.value },
      );
      // Kept so the invoice link survives a reload; the API has no way back from a place to its invoice.
      localStorage.setItem(PAYMENT_URL_KEY(joined.participant.id), joined.paymentUrl);
      session.myParticipation = joined.participant;
      await rerender();
    });
  });
  root.replaceChildren(join);
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
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(async () => {
      await gql(
        `mutation ($recipientName: String!, $phone: String!, $line1: String!, $city: String!, $province: String!, $postalCode: String!) {
          createAddress(input: { label: "Home", recipientName: $recipientName, phone: $phone, line1: $line1,
                                 city: $city, province: $province, postalCode: $postalCode, isDefault: true }) { id }
        }`,
        Object.fromEntries(new FormData(form)),
      );
      await onCreated();
    });
  });
  return form;
}

async function showOrders(root, current) {
  if (!me) return root.replaceChildren(h('p', { class: 'muted' }, 'Log in to see your orders.'));
  const { myOrders } = await gql(`{ myOrders(first: 20) { edges { node {
    id status source total createdAt items { quantity productName }
    payment { status } shipment { status trackingNumber events { status description occurredAt } }
  } } } }`);
  if (!current.alive()) return;
  const orders = myOrders.edges.map((edge) => edge.node);
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
                `${new Date(order.createdAt).toLocaleString()} · ${order.source === 'GROUP_BUYING' ? 'group buying' : 'regular'}`,
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
                    h(
                      'ol',
                      { class: 'events' },
                      order.shipment.events.map((e) =>
                        h(
                          'li',
                          {},
                          `${new Date(e.occurredAt).toLocaleString()} — ${e.status}`,
                          e.description ? `: ${e.description}` : '',
                        ),
                      ),
                    ),
                  )
                : h('p', { class: 'muted' }, 'Not shipped yet.'),
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

showOtpHint();
await startSession();
