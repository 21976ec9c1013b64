// Factory console: plain DOM and the public GraphQL API only, through the helpers it shares with the storefront.
import {
  SESSION_PROGRESS,
  attempt,
  byTestId,
  gql,
  h,
  me,
  money,
  onSubmit,
  progressBar,
  progressText,
  shipmentEvents,
  showError,
  startAccount,
  subscribe,
  timeLeft,
  when,
} from '../shared/client.js';

const FACTORY_KEY = 'console.factory';
const FINAL_SESSION = ['COMPLETED', 'FAILED', 'CANCELLED'];
const NEXT_SHIPMENT = { PENDING: 'PICKED_UP', PICKED_UP: 'IN_TRANSIT', IN_TRANSIT: 'DELIVERED' };
const SHIPMENT_LABEL = { PICKED_UP: 'Picked up by courier', IN_TRANSIT: 'In transit', DELIVERED: 'Delivered' };
const ORDERS_POLL_MS = 5000;
const ORDERS_SHOWN = 30;
const TOAST_MS = 8000;
// Payouts are live through payoutUpdated; the poll catches balance changes that come without a notification.
const PAYOUTS_POLL_MS = 5000;

const PAYOUT_UPDATED = /* GraphQL */ `
  subscription ($factoryId: ID!) {
    payoutUpdated(factoryId: $factoryId) {
      id
      status
    }
  }
`;

// The panels of the chosen factory; replaced when the user or the factory changes.
let board = { leave: () => {}, refresh: () => {} };

// crypto.randomUUID exists only on HTTPS and localhost; getRandomValues everywhere.
const randomKey = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');

function statusBadge(status, testId) {
  const tone = ['FAILED', 'CANCELLED', 'REFUNDED', 'REVERSED'].includes(status)
    ? 'bad'
    : ['SUCCEEDED', 'DELIVERED', 'COMPLETED', 'MOQ_REACHED', 'PAID'].includes(status)
      ? 'good'
      : ['PENDING_PAYMENT', 'REQUESTED', 'ACCEPTED'].includes(status)
        ? 'wait'
        : '';
  return h('span', { class: `status ${tone}`, 'data-testid': testId }, status);
}

/** A button that runs `action` with itself disabled meanwhile. */
function actionButton(label, attrs, action) {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', () => {
    button.disabled = true;
    attempt(action).finally(() => (button.disabled = false));
  });
  return button;
}

const shown = new WeakMap();
/** Re-renders `element` only when `data` differs from what it shows, so a refresh leaves open forms alone. */
function renderIfChanged(element, data, render) {
  const fingerprint = JSON.stringify(data);
  if (shown.get(element) === fingerprint) return;
  shown.set(element, fingerprint);
  element.replaceChildren(...render().filter((child) => child != null && child !== false));
}

/** Calls `refresh` every `everyMs()` ms until stopped; a failed refresh shows its error and keeps going. */
function poll(refresh, everyMs) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      await refresh();
    } catch (error) {
      if (!stopped) showError(error);
    }
    if (!stopped) timer = setTimeout(tick, everyMs());
  };
  timer = setTimeout(tick, everyMs());
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

byTestId('factory-picker').addEventListener('change', (event) => {
  localStorage.setItem(FACTORY_KEY, event.target.value);
  attempt(showConsole);
});

// ---- the console ----

/** Shows the chosen factory's panels, or the form to register a first factory. */
async function showConsole() {
  board.leave();
  board = { leave: () => {}, refresh: () => {} };
  const root = byTestId('view');
  root.replaceChildren();
  const picker = byTestId('factory-picker');
  picker.hidden = true;
  byTestId('nav').hidden = true;
  if (!me) return;

  const { myFactories } = await gql('{ myFactories { id name } }');
  if (!myFactories.length) {
    root.append(
      h(
        'section',
        { class: 'card', 'data-testid': 'no-factory' },
        h('h2', {}, 'Register your factory'),
        h('p', { class: 'muted' }, 'Buyers see its name and city. An admin verifies it before it can be paid out.'),
        factoryForm(),
      ),
    );
    return;
  }
  const chosen = myFactories.find((f) => f.id === localStorage.getItem(FACTORY_KEY)) ?? myFactories[0];
  picker.replaceChildren(...myFactories.map((f) => h('option', { value: f.id, selected: f.id === chosen.id }, f.name)));
  picker.hidden = myFactories.length < 2;
  byTestId('nav').hidden = false;

  const cleanups = [];
  const panels = [];
  board = {
    leave: () => cleanups.forEach((stop) => stop()),
    refresh: () => panels.forEach((panel) => panel.refresh().catch(showError)),
  };
  const context = { factoryId: chosen.id, onLeave: (stop) => cleanups.push(stop) };
  const factory = factoryPanel(context);
  const products = productsPanel(context);
  const sessions = sessionsPanel(context);
  const orders = ordersPanel(context);
  const payouts = payoutsPanel(context);
  // A new product's variants can be offered in a session at once; the factory card shows verification.
  context.productsChanged = () => sessions.refresh();
  context.factoryChanged = () => factory.refresh().catch(showError);
  panels.push(factory, products, orders, payouts);
  // Shown once loaded, so no form is used before its choices (categories, variants) are there.
  const loaded = await Promise.allSettled([factory, products, sessions, orders, payouts].map((p) => p.refresh()));
  root.append(factory.element, products.element, sessions.element, orders.element, payouts.element);
  const failed = loaded.find((outcome) => outcome.status === 'rejected');
  if (failed) showError(failed.reason);
}

function factoryForm() {
  return onSubmit(
    h(
      'form',
      { 'data-testid': 'factory-form' },
      h('label', {}, 'Name', h('input', { name: 'name', required: true, 'data-testid': 'factory-name' })),
      h('label', {}, 'City', h('input', { name: 'city', required: true, 'data-testid': 'factory-city' })),
      h('label', {}, 'What it makes', h('input', { name: 'description', size: 40 })),
      h('button', { type: 'submit', 'data-testid': 'create-factory' }, 'Register factory'),
    ),
    async ({ name, city, description }) => {
      const { createFactory } = await gql(
        `mutation ($input: CreateFactoryInput!) { createFactory(input: $input) { id } }`,
        { input: { name, city, description: description || null } },
      );
      localStorage.setItem(FACTORY_KEY, createFactory.id);
      await showConsole();
    },
  );
}

function factoryPanel({ factoryId }) {
  const summary = h('div');
  const element = h(
    'section',
    { class: 'card', 'data-testid': 'factory' },
    summary,
    h('details', {}, h('summary', {}, 'Register another factory'), factoryForm()),
  );
  return {
    element,
    async refresh() {
      const { factory } = await gql(
        'query ($id: ID!) { factory(id: $id) { id name city description verified createdAt } }',
        { id: factoryId },
      );
      if (!factory) throw new Error('This factory does not exist.');
      renderIfChanged(summary, factory, () => [
        h(
          'h2',
          {},
          h('span', { 'data-testid': 'factory-title' }, factory.name),
          factory.verified
            ? h('span', { class: 'status good', 'data-testid': 'factory-verified' }, 'Verified')
            : h('span', { class: 'status wait', 'data-testid': 'factory-verified' }, 'Waiting for verification'),
        ),
        h(
          'p',
          { class: 'muted' },
          [factory.city, factory.description, `registered ${when(factory.createdAt)}`].filter(Boolean).join(' · '),
        ),
        factory.verified
          ? null
          : h(
              'p',
              { class: 'notice', 'data-testid': 'verification-notice' },
              'An admin checks every new factory. You can sell meanwhile; payouts open once the factory is verified.',
            ),
      ]);
    },
  };
}

// ---- products and stock ----

function productsPanel(context) {
  const { factoryId } = context;
  const list = h('ul', { class: 'list', 'data-testid': 'product-list' });
  const categories = h('select', { name: 'categoryId', required: true, 'data-testid': 'product-category' });
  const form = onSubmit(
    h(
      'form',
      { 'data-testid': 'product-form' },
      h('p', { class: 'muted' }, 'A product with its first variant and its stock.'),
      h('label', {}, 'Product', h('input', { name: 'name', required: true, 'data-testid': 'product-name' })),
      h('label', {}, 'Category', categories),
      h(
        'label',
        {},
        'List price (IDR)',
        h('input', { name: 'basePrice', type: 'number', min: 1, required: true, 'data-testid': 'product-price' }),
      ),
      h('label', {}, 'Variant', h('input', { name: 'variantName', required: true, 'data-testid': 'variant-name' })),
      h('label', {}, 'SKU', h('input', { name: 'sku', required: true, 'data-testid': 'variant-sku' })),
      h(
        'label',
        {},
        'Stock',
        h('input', {
          name: 'stock',
          type: 'number',
          min: 0,
          value: 0,
          required: true,
          'data-testid': 'variant-stock-input',
        }),
      ),
      h('button', { type: 'submit', 'data-testid': 'create-product' }, 'Add product'),
    ),
    async (values, submitted) => {
      const { createProduct } = await gql(
        `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id variants { id } } }`,
        {
          input: {
            factoryId,
            categoryId: values.categoryId,
            name: values.name,
            basePrice: Number(values.basePrice),
            variants: [{ sku: values.sku, name: values.variantName, price: Number(values.basePrice) }],
          },
        },
      );
      if (Number(values.stock) > 0) await setStock(factoryId, createProduct.variants[0].id, Number(values.stock));
      submitted.reset();
      await Promise.all([panel.refresh(), context.productsChanged?.()]);
    },
  );
  const element = h(
    'section',
    { class: 'card', id: 'products', 'data-testid': 'products' },
    h('h2', {}, 'Products'),
    list,
    h('h3', {}, 'New product'),
    form,
  );

  const panel = {
    element,
    async refresh() {
      const data = await gql(
        `query ($id: ID!) {
          categories { id name parent { name } }
          factory(id: $id) { products(first: 50) { edges { node {
            id name basePrice category { name } variants { id sku name price stock }
          } } } }
        }`,
        { id: factoryId },
      );
      if (!categories.options.length) {
        categories.replaceChildren(
          ...data.categories.map((c) =>
            h('option', { value: c.id }, c.parent ? `${c.parent.name} › ${c.name}` : c.name),
          ),
        );
      }
      const products = data.factory?.products.edges.map((edge) => edge.node) ?? [];
      renderIfChanged(list, products, () =>
        products.length
          ? products.map((product) =>
              h(
                'li',
                { 'data-testid': 'product', 'data-product-id': product.id },
                h(
                  'p',
                  { class: 'row' },
                  h('strong', {}, product.name),
                  h('span', { class: 'muted' }, `${product.category.name} · list price ${money(product.basePrice)}`),
                ),
                h(
                  'table',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', {}, 'Variant'),
                    h('th', {}, 'SKU'),
                    h('th', {}, 'Price'),
                    h('th', {}, 'Available'),
                    h('th', {}),
                  ),
                  product.variants.map((variant) =>
                    h(
                      'tr',
                      { 'data-testid': 'variant', 'data-variant-id': variant.id },
                      h('td', {}, variant.name),
                      h('td', {}, variant.sku),
                      h('td', {}, money(variant.price)),
                      h('td', { 'data-testid': 'variant-stock' }, String(variant.stock)),
                      h(
                        'td',
                        {},
                        stockForm(factoryId, variant, () => panel.refresh()),
                      ),
                    ),
                  ),
                ),
              ),
            )
          : [h('li', { class: 'muted' }, 'No products yet: add the first one below.')],
      );
    },
  };
  return panel;
}

function stockForm(factoryId, variant, onChanged) {
  return onSubmit(
    h(
      'form',
      {},
      // On hand, reserved units included: what the warehouse holds, not what is left to sell.
      h('input', {
        name: 'quantity',
        type: 'number',
        min: 0,
        required: true,
        placeholder: 'on hand',
        'aria-label': 'On hand',
      }),
      h('button', { type: 'submit', class: 'secondary' }, 'Set on hand'),
    ),
    async ({ quantity }) => {
      await setStock(factoryId, variant.id, Number(quantity));
      await onChanged();
    },
  );
}

/** Sets the on-hand stock in the owner's first warehouse, opening one in the factory's city the first time. */
async function setStock(factoryId, variantId, quantity) {
  let { warehouses, factory } = await gql('query ($id: ID!) { warehouses { id } factory(id: $id) { name city } }', {
    id: factoryId,
  });
  if (!warehouses.length) {
    const { createWarehouse } = await gql(
      'mutation ($input: CreateWarehouseInput!) { createWarehouse(input: $input) { id } }',
      { input: { name: `${factory.name} warehouse`, city: factory.city } },
    );
    warehouses = [createWarehouse];
  }
  await gql('mutation ($input: SetInventoryInput!) { setInventory(input: $input) { available } }', {
    input: { warehouseId: warehouses[0].id, variantId, quantity },
  });
}

// ---- group-buying sessions ----

function sessionsPanel({ factoryId, onLeave }) {
  const list = h('ul', { class: 'list', 'data-testid': 'session-list' });
  const variants = h('select', { name: 'variant', required: true, 'data-testid': 'session-variant' });
  const form = onSubmit(
    h(
      'form',
      { 'data-testid': 'session-form' },
      h('label', {}, 'Variant', variants),
      h(
        'label',
        {},
        'MOQ (units)',
        h('input', { name: 'moq', type: 'number', min: 1, required: true, 'data-testid': 'session-moq' }),
      ),
      h(
        'label',
        {},
        'Group price (IDR)',
        h('input', { name: 'groupPrice', type: 'number', min: 1, required: true, 'data-testid': 'session-price' }),
      ),
      h(
        'label',
        {},
        'Open for',
        h('input', {
          name: 'duration',
          type: 'number',
          min: 1,
          value: 7,
          required: true,
          'data-testid': 'session-duration',
        }),
      ),
      h(
        'label',
        {},
        'Unit',
        h(
          'select',
          { name: 'unit', 'data-testid': 'session-duration-unit' },
          h('option', { value: 60_000 }, 'minutes'),
          h('option', { value: 3_600_000 }, 'hours'),
          h('option', { value: 86_400_000, selected: true }, 'days'),
        ),
      ),
      h('button', { type: 'submit', 'data-testid': 'create-session' }, 'Open session'),
    ),
    async (values, submitted) => {
      const [productId, variantId] = values.variant.split('/');
      await gql(
        `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
        {
          input: {
            productId,
            variantId,
            moq: Number(values.moq),
            groupPrice: Number(values.groupPrice),
            endsAt: new Date(Date.now() + Number(values.duration) * Number(values.unit)).toISOString(),
          },
        },
      );
      submitted.moq.value = '';
      submitted.groupPrice.value = '';
      await panel.refresh();
    },
  );
  const element = h(
    'section',
    { class: 'card', id: 'sessions', 'data-testid': 'sessions' },
    h('h2', {}, 'Group-buying sessions'),
    list,
    h('h3', {}, 'Open a session'),
    form,
  );

  let stopLive = [];
  const stopAll = () => {
    stopLive.forEach((stop) => stop());
    stopLive = [];
  };
  onLeave(stopAll);

  const panel = {
    element,
    async refresh() {
      const data = await gql(
        `query ($id: ID!) {
          factory(id: $id) { products(first: 50) { edges { node { id name variants { id name sku } } } } }
          groupBuyingSessions(factoryId: $id, first: 20) { edges { node {
            id status moq groupPrice endsAt paidQuantity participantsCount progressPercent
            product { name } variant { name sku }
          } } }
        }`,
        { id: factoryId },
      );
      const chosen = variants.value;
      variants.replaceChildren(
        ...(data.factory?.products.edges ?? []).flatMap(({ node: product }) =>
          product.variants.map((variant) =>
            h(
              'option',
              { value: `${product.id}/${variant.id}`, selected: `${product.id}/${variant.id}` === chosen },
              `${product.name} · ${variant.name} (${variant.sku})`,
            ),
          ),
        ),
      );
      stopAll();
      const sessions = data.groupBuyingSessions.edges.map((edge) => edge.node);
      list.replaceChildren(
        ...(sessions.length
          ? sessions.map((session) => sessionItem(session, panel))
          : [h('li', { class: 'muted' }, 'No sessions yet.')]),
      );
    },
  };

  function sessionItem(session, panel) {
    const progress = progressBar();
    const text = h('span', { 'data-testid': 'session-progress' });
    const status = h('span');
    const countdown = h('span', { class: 'muted' });
    const actions = h('span', { class: 'row' });
    const tick = () => (countdown.textContent = session.status === 'FORMING' ? timeLeft(session.endsAt) : '');
    let shownStatus = null;
    const show = () => {
      text.textContent = progressText(session);
      progress.show(session);
      tick();
      // New buttons only for a new status: one in flight stays disabled until its answer.
      if (shownStatus === session.status) return;
      shownStatus = session.status;
      status.replaceChildren(statusBadge(session.status, 'session-status'));
      actions.replaceChildren(...sessionActions(session, panel));
    };
    show();
    const timer = setInterval(tick, 1000);
    stopLive.push(() => clearInterval(timer));
    if (!FINAL_SESSION.includes(session.status)) {
      stopLive.push(
        subscribe(SESSION_PROGRESS, { sessionId: session.id }, ({ groupBuyingSessionProgress }) => {
          Object.assign(session, groupBuyingSessionProgress);
          show();
          // An outcome brings orders (MOQ reached) or refunds and released money: show them too.
          if (FINAL_SESSION.includes(session.status) || session.status === 'MOQ_REACHED') board.refresh();
        }),
      );
    }
    return h(
      'li',
      { 'data-testid': 'session', 'data-session-id': session.id },
      h(
        'p',
        { class: 'row' },
        h('strong', {}, `${session.product.name} · ${session.variant.name}`),
        h('span', {}, `${money(session.groupPrice)} each`),
        status,
        countdown,
        h('span', { class: 'grow' }),
        h('a', { href: `/demo/#/session/${session.id}`, target: '_blank' }, 'Storefront page'),
      ),
      progress.element,
      h('p', { class: 'row' }, text, h('span', { class: 'grow' }), actions),
    );
  }

  return panel;
}

function sessionActions(session, panel) {
  const run = (mutation) => async () => {
    await gql(`mutation ($id: ID!) { ${mutation}(sessionId: $id) { id } }`, { id: session.id });
    await panel.refresh();
    // Completing ships the orders and releases the escrow; cancelling refunds: the other panels change too.
    board.refresh();
  };
  switch (session.status) {
    case 'FORMING':
      return [
        h(
          'details',
          {},
          h('summary', {}, 'Cancel session…'),
          h('span', { class: 'muted' }, 'Every paid buyer is refunded. '),
          actionButton('Cancel and refund all', { class: 'danger' }, run('cancelGroupBuyingSession')),
        ),
      ];
    case 'MOQ_REACHED':
      return [actionButton('Start production', { 'data-testid': 'start-production' }, run('startProduction'))];
    case 'IN_PRODUCTION':
      return [
        actionButton('Production done: ship', { 'data-testid': 'complete-production' }, run('completeProduction')),
      ];
    default:
      return [];
  }
}

// ---- orders ----

function ordersPanel({ factoryId, onLeave }) {
  const list = h('ul', { class: 'list', 'data-testid': 'order-list' });
  const filter = h(
    'select',
    { 'aria-label': 'Status', 'data-testid': 'order-filter' },
    h('option', { value: '' }, 'All orders'),
    ['PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'PENDING_PAYMENT', 'CANCELLED', 'REFUNDED'].map((status) =>
      h('option', { value: status }, status),
    ),
  );
  filter.addEventListener('change', () => attempt(() => panel.refresh()));
  const element = h(
    'section',
    { class: 'card', id: 'orders', 'data-testid': 'orders' },
    h('h2', {}, 'Orders', filter),
    list,
  );
  const panel = {
    element,
    async refresh() {
      const { factoryOrders } = await gql(
        `query ($id: ID!, $status: OrderStatus) {
          factoryOrders(factoryId: $id, status: $status, first: ${ORDERS_SHOWN}) { totalCount edges { node {
            id status source total createdAt
            items { quantity unitPrice productName variant { sku } }
            shippingAddress { recipientName phone line1 line2 city province postalCode }
            shipment { id status trackingNumber events { status description occurredAt } }
          } } }
        }`,
        { id: factoryId, status: filter.value || null },
      );
      const orders = factoryOrders.edges.map((edge) => edge.node);
      renderIfChanged(list, factoryOrders, () => [
        ...(orders.length
          ? orders.map((order) => orderItem(order, () => panel.refresh()))
          : [h('li', { class: 'muted', 'data-testid': 'no-orders' }, 'No orders here yet.')]),
        factoryOrders.totalCount > orders.length
          ? h('li', { class: 'muted' }, `The newest ${orders.length} of ${factoryOrders.totalCount} orders.`)
          : null,
      ]);
    },
  };
  onLeave(
    poll(
      () => panel.refresh(),
      () => ORDERS_POLL_MS,
    ),
  );
  return panel;
}

function orderItem(order, refresh) {
  const address = order.shippingAddress;
  const shipment = order.shipment;
  const next = shipment && NEXT_SHIPMENT[shipment.status];
  const actions = [];
  // Regular orders are accepted one by one; a session's orders get their shipments when production completes.
  if (order.source === 'REGULAR' && order.status === 'PAID' && !shipment) {
    actions.push(
      actionButton('Accept order', { 'data-testid': 'accept-order' }, async () => {
        await gql('mutation ($id: ID!) { acceptOrder(orderId: $id) { id status shipment { id } } }', { id: order.id });
        await refresh();
      }),
    );
  }
  if (next && ['PAID', 'PROCESSING', 'SHIPPED'].includes(order.status)) {
    actions.push(
      actionButton(
        `Mark ${SHIPMENT_LABEL[next].toLowerCase()}`,
        { 'data-testid': 'advance-shipment', 'data-next': next },
        async () => {
          await gql(
            'mutation ($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { id status } }',
            { input: { shipmentId: shipment.id, status: next } },
          );
          await refresh();
        },
      ),
    );
  }
  if (['PAID', 'PROCESSING'].includes(order.status)) {
    actions.push(
      h(
        'details',
        {},
        h('summary', {}, 'Cancel and refund…'),
        onSubmit(
          h(
            'form',
            {},
            h('label', {}, 'Reason for the buyer', h('input', { name: 'reason', size: 30 })),
            h('button', { type: 'submit', class: 'danger', 'data-testid': 'refund-order' }, 'Refund in full'),
          ),
          async ({ reason }) => {
            await gql(
              'mutation ($id: ID!, $reason: String) { cancelOrder(orderId: $id, reason: $reason) { id status } }',
              {
                id: order.id,
                reason: reason || null,
              },
            );
            await refresh();
          },
        ),
      ),
    );
  }
  return h(
    'li',
    { 'data-testid': 'order', 'data-order-id': order.id },
    h(
      'p',
      { class: 'row' },
      h(
        'strong',
        {},
        order.items.map((item) => `${item.quantity} × ${item.productName} (${item.variant.sku})`).join(', '),
      ),
      statusBadge(order.status, 'order-status'),
      h('span', { class: 'grow' }),
      h('strong', { 'data-testid': 'order-total' }, money(order.total)),
    ),
    h(
      'p',
      { class: 'muted' },
      // Ids are UUIDv7: their start is the time, their end tells orders apart.
      `${when(order.createdAt)} · ${order.source === 'GROUP_BUYING' ? 'group buying' : 'regular order'} · #${order.id.slice(-8)}`,
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'address',
        { 'data-testid': 'order-address', class: 'grow' },
        h('strong', {}, address.recipientName),
        ` · ${address.phone}`,
        h('br'),
        [address.line1, address.line2].filter(Boolean).join(', '),
        h('br'),
        `${address.city}, ${address.province} ${address.postalCode}`,
      ),
      shipment
        ? h(
            'div',
            { 'data-testid': 'shipment', class: 'grow' },
            'Shipment ',
            statusBadge(shipment.status, 'shipment-status'),
            ` · ${shipment.trackingNumber}`,
            shipmentEvents(shipment.events),
          )
        : null,
    ),
    actions.length ? h('div', { class: 'row' }, actions) : null,
  );
}

// ---- payouts ----

function payoutsPanel(context) {
  const { factoryId, onLeave } = context;
  const balance = h('dl', { class: 'balance', 'data-testid': 'balance' });
  const account = h('p', { 'data-testid': 'payout-account' });
  const list = h('ul', { class: 'list', 'data-testid': 'payout-list' });
  const notice = h(
    'p',
    { class: 'notice', 'data-testid': 'payout-verification' },
    'Payouts open once an admin has verified this factory.',
  );
  const amount = h('input', { name: 'amount', type: 'number', min: 1, required: true, 'data-testid': 'payout-amount' });
  // One key per intended payout, kept across retries of the same request so a lost answer cannot pay twice.
  let idempotencyKey = randomKey();
  amount.addEventListener('input', () => (idempotencyKey = randomKey()));
  let wasVerified = null;
  let channels = [];

  const channelSelect = h('select', { name: 'channelCode', required: true, 'data-testid': 'payout-channel' });
  const accountForm = onSubmit(
    h(
      'form',
      { 'data-testid': 'payout-account-form' },
      h('label', {}, 'Bank or e-wallet', channelSelect),
      h(
        'label',
        {},
        'Account number (e-wallet: phone)',
        h('input', {
          name: 'accountNumber',
          required: true,
          inputmode: 'numeric',
          'data-testid': 'payout-account-number',
        }),
      ),
      h(
        'label',
        {},
        'Account holder',
        h('input', { name: 'accountHolderName', required: true, 'data-testid': 'payout-account-holder' }),
      ),
      h('button', { type: 'submit', 'data-testid': 'save-payout-account' }, 'Save payout account'),
    ),
    async (values, submitted) => {
      await gql(
        `mutation ($input: SetPayoutAccountInput!) { setPayoutAccount(input: $input) { accountNumberMasked } }`,
        { input: { factoryId, ...values } },
      );
      submitted.reset();
      await panel.refresh();
    },
  );
  const requestForm = onSubmit(
    h(
      'form',
      { 'data-testid': 'payout-form' },
      h('label', {}, 'Amount (IDR)', amount),
      h('button', { type: 'submit', 'data-testid': 'request-payout' }, 'Request payout'),
    ),
    async () => {
      await gql(`mutation ($input: RequestPayoutInput!) { requestPayout(input: $input) { id status } }`, {
        input: { factoryId, amount: Number(amount.value), idempotencyKey },
      });
      idempotencyKey = randomKey();
      amount.value = '';
      await panel.refresh();
    },
  );
  const element = h(
    'section',
    { class: 'card', id: 'payouts', 'data-testid': 'payouts' },
    h('h2', {}, 'Balance and payouts'),
    notice,
    balance,
    h(
      'p',
      { class: 'muted' },
      'Money becomes available when an order is delivered or a session completes, less the platform commission.',
    ),
    h('h3', {}, 'Payout account'),
    account,
    h('details', {}, h('summary', {}, 'Set the payout account'), accountForm),
    h('h3', {}, 'Request a payout'),
    requestForm,
    h('h3', {}, 'Payouts'),
    list,
  );

  const panel = {
    element,
    async refresh() {
      const { factory, payoutChannels } = await gql(
        `query ($id: ID!) {
          payoutChannels { code name kind }
          factory(id: $id) {
          verified
          payoutAccount { channelCode accountHolderName accountNumberMasked }
          balance { pending available inPayout paidOut commission currency }
          payouts(first: 10) { edges { node { id status amount channelCode accountNumberMasked failureCode createdAt } } }
        } }`,
        { id: factoryId },
      );
      if (!factory) return;
      if (!channels.length) {
        channels = payoutChannels;
        channelSelect.replaceChildren(
          ...channels.map((c) =>
            h('option', { value: c.code }, c.kind === 'EWALLET' ? `${c.name} (e-wallet)` : c.name),
          ),
        );
      }
      if (wasVerified !== null && wasVerified !== factory.verified) context.factoryChanged?.();
      wasVerified = factory.verified;
      notice.hidden = factory.verified;
      const b = factory.balance;
      const figure = (key, label, testId) =>
        h('div', { class: key }, h('dt', {}, label), h('dd', { 'data-testid': testId }, money(b?.[key])));
      balance.replaceChildren(
        figure('available', 'Available', 'balance-available'),
        figure('pending', 'Pending', 'balance-pending'),
        figure('inPayout', 'In payout', 'balance-in-payout'),
        figure('paidOut', 'Paid out', 'balance-paid-out'),
        figure('commission', 'Commission', 'balance-commission'),
      );
      if (!amount.value && b?.available) amount.value = String(b.available);
      const a = factory.payoutAccount;
      account.replaceChildren(
        a
          ? `${channels.find((c) => c.code === a.channelCode)?.name ?? a.channelCode} ${a.accountNumberMasked} · ${a.accountHolderName}`
          : h('span', { class: 'muted' }, 'No payout account yet.'),
      );
      const payouts = factory.payouts.edges.map((edge) => edge.node);
      renderIfChanged(list, payouts, () =>
        payouts.length
          ? payouts.map((p) =>
              h(
                'li',
                { 'data-testid': 'payout', 'data-payout-id': p.id },
                h(
                  'p',
                  { class: 'row' },
                  h('strong', { 'data-testid': 'payout-amount-shown' }, money(p.amount)),
                  statusBadge(p.status, 'payout-status'),
                  h('span', { class: 'muted' }, `to ${p.channelCode} ${p.accountNumberMasked} · ${when(p.createdAt)}`),
                  p.failureCode ? h('span', { class: 'status bad' }, p.failureCode) : null,
                ),
              ),
            )
          : [h('li', { class: 'muted' }, 'No payouts yet.')],
      );
    },
  };
  onLeave(
    poll(
      () => panel.refresh(),
      () => PAYOUTS_POLL_MS,
    ),
  );
  // A payout's status change moves the balance too: read both again.
  onLeave(subscribe(PAYOUT_UPDATED, { factoryId }, () => panel.refresh().catch(showError)));
  return panel;
}

await startAccount({
  tokenKey: 'console.token',
  loginNote: 'The factory console is for the people who run a factory on Beli Bareng.',
  onSession: showConsole,
  // New orders, payments and payout results all arrive as notifications: show their effect at once. Their
  // toasts then only draw the eye to it, so they go after a while.
  onNotification: () => board.refresh(),
  toastMs: TOAST_MS,
});
