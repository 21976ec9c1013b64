import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import type { Caller } from '../lib/internal-auth';
import { ok, startTestStack, type TestStack } from '../test/support/e2e';
import { eventually } from '../test/support/eventually';
import {
  STOREFRONT_SUBGRAPHS,
  addAddress,
  browserSuite,
  byTestId,
  describeInChromium,
  payAtCheckout,
} from '../test/support/chromium';

const SCREENSHOT = path.join(__dirname, '..', 'test-artifacts', 'storefront.png');
const STEP_MS = 20_000;
const PRODUCT = DEMO_PRODUCTS[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };

describeInChromium('storefront demo in Chromium', () => {
  let stack: TestStack;
  let sessionId: string;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: STOREFRONT_SUBGRAPHS, sandbox: true });
    const product = PRODUCT;
    const created = await stack.graphql(
      `mutation ($productId: ID!, $variantId: ID!, $endsAt: DateTime!) {
        createGroupBuyingSession(input: { productId: $productId, variantId: $variantId, moq: 5, groupPrice: 39000, endsAt: $endsAt }) { id }
      }`,
      {
        productId: product.id,
        variantId: product.variants[0].id,
        endsAt: new Date(Date.now() + 120_000).toISOString(),
      },
      { caller: OWNER },
    );
    expect(created.errors).toBeUndefined();
    sessionId = created.data.createGroupBuyingSession.id;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const { pageErrors, newPage, waitForText, logIn } = browserSuite(() => stack, {
    stepMs: STEP_MS,
    viewport: { width: 1100, height: 820 },
  });

  /** Logs in through the page with a fresh number and opens the session from the FORMING list. */
  async function logInAndOpenSession(page: Page) {
    await logIn(page, `${stack.gatewayUrl}/demo`);
    await page.locator(`[data-testid="session-link"][data-session-id="${sessionId}"]`).click();
    await waitForText(page, 'product-name', new RegExp(DEMO_PRODUCTS[0].name));
    await waitForText(page, 'group-price', /^Rp39\.000$/);
    await waitForText(page, 'base-price', /^Rp45\.000$/);
    await waitForText(page, 'progress-text', /^0\/5 paid/);
  }

  it('A joins and pays; B sees the bar move without reloading; A gets the payment notification live', async () => {
    const [a, b] = [await newPage(), await newPage()];
    await logInAndOpenSession(b);
    await b.evaluate(() => Object.assign(window, { notReloaded: true }));
    await logInAndOpenSession(a);

    await addAddress(a);
    await byTestId(a, 'quantity').fill('2');
    await byTestId(a, 'join').click();
    await waitForText(a, 'participation-status', /PENDING_PAYMENT/);

    await payAtCheckout(a, stack);

    await waitForText(b, 'progress-text', /^2\/5 paid/);
    expect(await b.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await a.locator('[data-testid="notification"][data-type="PAYMENT_SUCCEEDED"]').waitFor();
    await waitForText(a, 'progress-text', /^2\/5 paid/);
    await waitForText(a, 'participation-status', /^PAID$/);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await a.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });

    await byTestId(a, 'nav-orders').click();
    await waitForText(a, 'view', /My orders/);
    expect(await byTestId(a, 'error').isVisible()).toBe(false);
    await b.goto(`${stack.gatewayUrl}/demo/#/`);
    await waitForText(b, 'view', /Forming/);
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('a buyer reviews a delivered order from My orders; the rating and review show on the product', async () => {
    const page = await newPage();
    await logIn(page, `${stack.gatewayUrl}/demo`);
    // The order itself is placed, paid and delivered through the API as the page's own user and the factory.
    const token = (await page.evaluate(() => localStorage.getItem('demo.token')))!;
    const asBuyer = async (query: string, variables: Record<string, unknown> = {}) =>
      ok(await stack.graphql(query, variables, { token }));
    const asOwner = async (query: string, variables: Record<string, unknown>) =>
      ok(await stack.graphql(query, variables, { caller: OWNER }));
    const { createAddress } =
      await asBuyer(`mutation { createAddress(input: { recipientName: "Ayu", phone: "081234567890",
      line1: "Jl. Braga 10", city: "Bandung", province: "Jawa Barat", postalCode: "40111" }) { id } }`);
    const { createOrder } = await asBuyer(
      `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { order { id } paymentUrl } }`,
      { input: { addressId: createAddress.id, items: [{ variantId: PRODUCT.variants[1].id, quantity: 1 }] } },
    );
    const orderId: string = createOrder.order.id;
    const statusOf = async () =>
      (await asBuyer(`query ($id: ID!) { order(id: $id) { status } }`, { id: orderId })).order.status;
    await stack.payInvoice(createOrder.paymentUrl);
    await eventually('the order paid', async () => (await statusOf()) === 'PAID');
    const { acceptOrder } = await asOwner(`mutation ($id: ID!) { acceptOrder(orderId: $id) { shipment { id } } }`, {
      id: orderId,
    });
    for (const status of ['PICKED_UP', 'IN_TRANSIT', 'DELIVERED'])
      await asOwner(`mutation ($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { id } }`, {
        input: { shipmentId: acceptOrder.shipment.id, status },
      });
    await eventually('the order delivered', async () => (await statusOf()) === 'DELIVERED');

    await byTestId(page, 'nav-orders').click();
    const order = page.locator(`[data-testid="order"][data-order-id="${orderId}"]`);
    await waitForText(page, order.locator('[data-testid="review-form"]'), new RegExp(PRODUCT.variants[1].name));
    await byTestId(order, 'review-rating').selectOption('4');
    await byTestId(order, 'review-title').fill('Adem dan rapi');
    await byTestId(order, 'review-body').fill('Jahitannya rapi, ukurannya pas.');
    await byTestId(order, 'submit-review').click();
    await waitForText(page, order.locator('[data-testid="reviewed"]'), /Reviewed/);
    expect(await byTestId(order, 'review-form').count()).toBe(0);

    await byTestId(page, 'nav-sessions').click();
    const session = page.locator(`li:has([data-session-id="${sessionId}"])`);
    await waitForText(page, session.locator('[data-testid="session-rating"]'), /★ 4\.0 · 1 review$/);
    await page.locator(`[data-testid="session-link"][data-session-id="${sessionId}"]`).click();
    await waitForText(page, 'product-rating', /★ 4\.0 · 1 review$/);
    await waitForText(page, 'review', /Adem dan rapi[\s\S]*verified purchase/);
    expect(await byTestId(page, 'review').first().textContent()).toContain(PRODUCT.variants[1].name);
    expect(await byTestId(page, 'error').isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
